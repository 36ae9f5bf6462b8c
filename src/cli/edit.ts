/**
 * lv edit KIND NAME: the object as YAML in an editor ($LV_EDITOR, $VISUAL, $EDITOR, then vi); on save it is
 * validated with positions in the edited file, and an invalid edit reopens with the errors as comments at
 * the top, as kubectl does. An unchanged file changes nothing. The edit replaces the object's labels,
 * annotations and spec (what it leaves out goes back to its default) and keeps apply's last-applied
 * record, so a later `lv apply` keeps the edited fields the file does not set.
 */
import { join } from "node:path";
import { LAST_APPLIED_ANNOTATION } from "../api/merge.ts";
import type { AnyResource } from "../api/types.ts";
import { contextDefaults } from "../config/config.ts";
import { ConflictError, keyOf, type ObjectKey, refString } from "../store/store.ts";
import { awaitObjects, readiness } from "./await_objects.ts";
import { changeEffects, networkInUse, refuseChanges } from "./change_effects.ts";
import { refuseRemoteDeviceFolders } from "./device_folder_checks.ts";
import { diffView } from "./diff.ts";
import { CommandFailed, InvalidInputError, UsageError } from "./errors.ts";
import { loadManifests } from "./manifests.ts";
import type { Runtime } from "./runtime.ts";
import { deepEqual } from "../api/merge.ts";

export interface EditOptions {
  wait: boolean;
  timeoutMs: number;
  /** The editor command; default from the environment ({@linkcode editorCommand}). */
  editor?: string[];
}

const HEADER = [
  "# Edit the object below. Lines beginning with '#' are ignored; an empty file cancels the edit.",
  "# If the edit is invalid, this file is reopened with the problems at the top.",
];

/** $LV_EDITOR, $VISUAL, $EDITOR, then vi; split on spaces so "code --wait" works. */
export function editorCommand(env: (name: string) => string | undefined = Deno.env.get): string[] {
  const text = [env("LV_EDITOR"), env("VISUAL"), env("EDITOR")].find((e) => e && e.trim()) ?? "vi";
  return text.trim().split(/\s+/);
}

async function runEditor(editor: string[], file: string): Promise<void> {
  let status: Deno.CommandStatus;
  try {
    status = await new Deno.Command(editor[0], {
      args: [...editor.slice(1), file],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
  } catch (e) {
    throw new CommandFailed(`cannot run the editor ${editor[0]}: ${(e as Error).message}`);
  }
  if (!status.success) throw new CommandFailed(`the editor ${editor.join(" ")} exited with ${status.code}`);
}

function withoutComments(text: string): string {
  return text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n").trim();
}

/** Lines of a problem header (removed before a new one is added). */
const PROBLEM_LINE = /^# (error: |The edit was not saved:)|^#$/;

/**
 * The problems as comment lines, their line numbers moved to where the lines will be once the header
 * replaces the `before` lines of the previous one.
 */
function problemHeader(problems: string[], before: number): string[] {
  const shift = problems.length + 2 - before;
  const moved = problems.map((p) =>
    p.replace(/^([^:\n]*):(\d+):/, (_, f, n) => `${f}:${Number(n) + shift}:`)
  );
  return ["# The edit was not saved:", ...moved.map((p) => `# error: ${p}`), "#"];
}

/** Validates the edited text; the object to store, or the problems (with file:line:field). */
async function check(
  rt: Runtime,
  file: string,
  live: AnyResource,
): Promise<{ next?: AnyResource; problems: string[] }> {
  let obj: AnyResource;
  try {
    const found = await loadManifests([file], rt.store, { specDefaults: contextDefaults(rt.connection) });
    if (found.length !== 1) {
      return { problems: [`${file}: must hold exactly one object, found ${found.length}`] };
    }
    obj = found[0];
  } catch (e) {
    if (e instanceof InvalidInputError) return { problems: e.lines };
    if (e instanceof UsageError) return { problems: [`${file}: ${e.message}`] };
    throw e;
  }
  if (
    obj.kind !== live.kind || obj.metadata.name !== live.metadata.name ||
    obj.metadata.namespace !== live.metadata.namespace
  ) {
    return { problems: [`${file}: kind, name and namespace cannot change (${refString(live)})`] };
  }
  const next = structuredClone(live);
  next.spec = obj.spec as typeof next.spec;
  next.metadata.labels = obj.metadata.labels;
  const record = live.metadata.annotations[LAST_APPLIED_ANNOTATION];
  next.metadata.annotations = { ...obj.metadata.annotations };
  if (record !== undefined) next.metadata.annotations[LAST_APPLIED_ANNOTATION] = record;
  try {
    refuseRemoteDeviceFolders([obj], (o) => rt.libvirtFor(o).uri);
    const inUse = live.kind === "Network" && await networkInUse(rt.store, live);
    refuseChanges(obj, changeEffects(live, next, inUse), { force: false });
  } catch (e) {
    if (e instanceof InvalidInputError) return { problems: e.lines };
    throw e;
  }
  return { next, problems: [] };
}

/** lv edit: edit one object until it is valid or the edit is cancelled; writes at most once. */
export async function edit(rt: Runtime, key: ObjectKey, options: EditOptions): Promise<void> {
  const live = await rt.store.get(key);
  if (!live) throw new CommandFailed(`${refString(key)} not found`);
  const { stringify } = await import("./yaml_stringify.ts");
  const original = stringify(diffView(live));
  const dir = await Deno.makeTempDir({ prefix: "lv-edit-" });
  const file = join(dir, `${key.kind.toLowerCase()}-${key.name}.yaml`);
  let keep = false;
  try {
    let text = [...HEADER, original].join("\n");
    for (;;) {
      await Deno.writeTextFile(file, text);
      await runEditor(options.editor ?? editorCommand(), file);
      const saved = await Deno.readTextFile(file);
      const content = withoutComments(saved);
      if (content === "" || content === original.trim()) {
        rt.output.out("Edit cancelled, no changes made.\n");
        return;
      }
      const { next, problems } = await check(rt, file, live);
      if (next) return await save(rt, live, next, options);
      if (withoutComments(text) === content) { // saved again without fixing anything
        keep = true;
        throw new InvalidInputError([...problems, `the edit is kept in ${file}`]);
      }
      const body = saved.split("\n").filter((l) => !PROBLEM_LINE.test(l));
      const header = problemHeader(problems, saved.split("\n").length - body.length);
      text = [...header, ...body].join("\n");
    }
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

async function save(rt: Runtime, live: AnyResource, next: AnyResource, options: EditOptions): Promise<void> {
  if (deepEqual(diffView(live), diffView(next))) {
    rt.output.out(`${refString(live)} unchanged\n`);
    return;
  }
  try {
    await rt.store.update(next);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    throw new CommandFailed(`${refString(live)} changed while it was edited; run lv edit again`);
  }
  rt.output.out(`${refString(live)} edited\n`);
  if (!options.wait) return;
  await awaitObjects(rt, [keyOf(live)], readiness, { timeoutMs: options.timeoutMs, what: "be Ready" });
}
