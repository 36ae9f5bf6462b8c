/**
 * lv diff -f FILE: per object, a unified diff of the stored object against what `lv apply` would store, and
 * for Domains, Networks and Volumes what that does in libvirt (live, next boot, refused). Writes nothing.
 */
import { changeClassText } from "../api/change_class.ts";
import { LAST_APPLIED_ANNOTATION } from "../api/merge.ts";
import type { AnyResource, Kind } from "../api/types.ts";
import { contextDefaults } from "../config/config.ts";
import { keyOf, refString } from "../store/store.ts";
import { planApply } from "./apply_plan.ts";
import { changeEffects, type FieldChange, networkInUse } from "./change_effects.ts";
import { loadManifests } from "./manifests.ts";
import type { Runtime } from "./runtime.ts";
import { unifiedDiff } from "./unified_diff.ts";

export interface DiffOptions {
  files: string[];
  recursive?: boolean;
}

/** What a diff shows of an object: no status, no metadata lv manages, no last-applied record. */
export function diffView(obj: AnyResource): Record<string, unknown> {
  const { [LAST_APPLIED_ANNOTATION]: _, ...annotations } = obj.metadata.annotations;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      labels: obj.metadata.labels,
      annotations,
    },
    spec: obj.spec,
  };
}

function effectLine(kind: Kind, c: FieldChange): string {
  const what = c.refused ? `refused: ${c.refused}` : c.cls ? changeClassText(kind, c.cls, c.path) : "changed";
  return `  ${c.path}: ${what}\n`;
}

/** The diff text of one object; "" when apply would change nothing. */
export async function diffOne(rt: Runtime, obj: AnyResource, yaml: (v: unknown) => string): Promise<string> {
  const specDefaults = contextDefaults(rt.connection);
  const live = await rt.store.get(keyOf(obj));
  const plan = planApply(obj, live, { specDefaults });
  if (plan.result === "unchanged") return "";
  const ref = refString(obj);
  const before = live ? yaml(diffView(live)) : "";
  const text = unifiedDiff(before, yaml(diffView(plan.next)), {
    from: live ? `${ref} (stored)` : "/dev/null",
    to: `${ref} (after apply)`,
  });
  if (obj.kind === "Box") return text;
  if (!live) return `${text}libvirt effect of ${ref}:\n  created\n`;
  const inUse = obj.kind === "Network" && await networkInUse(rt.store, obj);
  const effects = changeEffects(live, plan.next, inUse);
  if (effects.length === 0) return text;
  return `${text}libvirt effect of ${ref}:\n${effects.map((e) => effectLine(obj.kind, e)).join("")}`;
}

/** Prints the diffs; returns true when applying the files would change something (exit 1). */
export async function diff(rt: Runtime, options: DiffOptions): Promise<boolean> {
  const resources = await loadManifests(options.files, rt.store, {
    specDefaults: contextDefaults(rt.connection),
    recursive: options.recursive,
  });
  const { stringify } = await import("./yaml_stringify.ts");
  let changed = false;
  for (const obj of resources) {
    const text = await diffOne(rt, obj, (v) => stringify(v));
    if (text === "") continue;
    changed = true;
    rt.output.out(text);
  }
  return changed;
}
