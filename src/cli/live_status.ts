/**
 * On a terminal, apply and the verbs show one live line per object (phase, what it waits for, seconds since
 * the command started), redrawn in place, instead of a scroll of events; elsewhere (a pipe, a log, TERM=dumb)
 * the events print as plain lines.
 */
import { getCondition } from "../api/conditions.ts";
import type { AnyResource } from "../api/types.ts";
import { type ObjectKey, refString } from "../store/store.ts";

/** Whether progress goes as live status lines: on a terminal (`columns` given) unless TERM=dumb. */
export function liveWanted(
  columns: (() => number) | undefined,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): boolean {
  return columns !== undefined && env("TERM") !== "dumb";
}

/** What an object is waiting for, in a few words. */
function waitingFor(obj: AnyResource | undefined): string {
  if (!obj) return "gone";
  const ready = getCondition(obj.status, "Ready");
  if (ready?.status === "True") return "ready";
  if (!ready) return "waiting for the controller";
  return `${ready.reason}${ready.message ? `: ${ready.message}` : ""}`;
}

/** One line per key: KIND/NAME, phase, what it waits for, seconds elapsed; columns aligned. */
export function statusLines(
  keys: ObjectKey[],
  objects: (AnyResource | undefined)[],
  elapsedMs: number,
  width = 100,
): string[] {
  const names = keys.map(refString);
  const nameWidth = Math.max(...names.map((n) => n.length));
  const phases = objects.map((o) => o?.status.phase ?? (o ? "Pending" : "-"));
  const phaseWidth = Math.max(...phases.map((p) => p.length));
  const seconds = `${Math.floor(elapsedMs / 1000)}s`;
  return keys.map((_, i) => {
    const line = `${names[i].padEnd(nameWidth)}  ${phases[i].padEnd(phaseWidth)}  ${seconds.padStart(4)}  ` +
      waitingFor(objects[i]);
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  });
}

/** The text that replaces the `previous` lines drawn last time with `lines` (cursor up, clear, draw). */
export function redraw(previous: number, lines: string[]): string {
  return (previous > 0 ? `\x1b[${previous}A\x1b[J` : "") + lines.map((l) => `${l}\n`).join("");
}
