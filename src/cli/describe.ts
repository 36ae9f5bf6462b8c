/** lv describe: one object in words: metadata, spec, status, conditions and recent events. */
import { stringify } from "yaml";
import type { AnyResource } from "../api/types.ts";
import { keyOf, type LvEvent } from "../store/store.ts";
import { CommandFailed } from "./errors.ts";
import { kindWord, plural } from "./kinds.ts";
import { age, renderTable } from "./printers.ts";
import type { Runtime } from "./runtime.ts";
import type { Target } from "./targets.ts";

function indent(text: string, by = "  "): string {
  return text.trimEnd().split("\n").map((l) => by + l).join("\n") + "\n";
}

function map(m: Record<string, string>): string {
  const entries = Object.entries(m);
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${v}`).join("\n              ");
}

export function describeObject(
  obj: AnyResource,
  events: LvEvent[],
  options: { now?: Date; snapshots?: string[] } = {},
): string {
  const now = options.now ?? new Date();
  const m = obj.metadata;
  const { conditions = [], observedGeneration: _o, phase, ...status } = obj.status;
  const lines = [
    `Name:         ${m.name}`,
    `Namespace:    ${m.namespace}`,
    `Kind:         ${obj.kind}`,
    `Labels:       ${map(m.labels)}`,
    `Annotations:  ${map(m.annotations)}`,
    `UID:          ${m.uid}`,
    `Created:      ${m.creationTimestamp} (${age(m.creationTimestamp, now)} ago)`,
    `Generation:   ${m.generation} (observed ${obj.status.observedGeneration ?? "none"})`,
    ...(m.deletionTimestamp ? [`Deleting:     since ${m.deletionTimestamp}`] : []),
    ...(m.ownerReferences.length > 0
      ? [`Owned by:     ${m.ownerReferences.map((o) => `${kindWord(o.kind)}/${o.name}`).join(", ")}`]
      : []),
    `Phase:        ${phase ?? "Pending"}`,
  ];
  let out = lines.join("\n") + "\n";
  out += "Spec:\n" + indent(stringify(obj.spec));
  if (Object.keys(status).length > 0) out += "Status:\n" + indent(stringify(status));
  out += "Conditions:\n";
  out += conditions.length === 0 ? "  <none>\n" : indent(renderTable([
    ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
    ...conditions.map((c) => [c.type, c.status, c.reason, age(c.lastTransitionTime, now), c.message]),
  ]));
  if (options.snapshots) {
    out += "Snapshots:\n" +
      (options.snapshots.length === 0 ? "  <none>\n" : indent(options.snapshots.join("\n")));
  }
  out += "Events:\n";
  out += events.length === 0 ? "  <none>\n" : indent(renderTable([
    ["TYPE", "REASON", "AGE", "COUNT", "MESSAGE"],
    ...events.slice(-20).map((
      e,
    ) => [e.type, e.reason, age(e.lastTimestamp, now), String(e.count), e.message]),
  ]));
  return out;
}

export async function describe(rt: Runtime, targets: Target[], namespace: string | undefined): Promise<void> {
  const texts: string[] = [];
  const missing: string[] = [];
  for (const target of targets) {
    const objects = await rt.store.list(target.kind, { namespace });
    const chosen = target.names.length === 0
      ? objects
      : target.names.map((n) => objects.find((o) => o.metadata.name === n) ?? n);
    for (const obj of chosen) {
      if (typeof obj === "string") missing.push(`${kindWord(target.kind)}/${obj}`);
      else {
        const snapshots = obj.kind === "Domain"
          ? await rt.libvirtFor(obj).snapshotList(obj.metadata.name).catch(() => undefined)
          : undefined;
        texts.push(describeObject(obj, await rt.store.events(keyOf(obj)), { snapshots }));
      }
    }
  }
  rt.output.out(texts.join("\n"));
  if (texts.length === 0 && missing.length === 0) {
    const kinds = targets.map((t) => plural(t.kind)).join(", ");
    rt.output.err(`No ${kinds} found${namespace ? ` in namespace ${namespace}` : ""}.\n`);
  }
  if (missing.length > 0) throw new CommandFailed(`${missing.join(", ")} not found`);
}
