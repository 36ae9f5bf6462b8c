/**
 * What an apply would change in a stored object, field by field, with each field's change class: for
 * `lv diff`'s libvirt effect, apply's refusal of immutable fields and `--restart`.
 */
import { type ChangeClass, changeClassOf, domainChangeClass, refuses } from "../api/change_class.ts";
import { formatProblem, positionOf } from "../api/problem.ts";
import type { AnyResource, Domain } from "../api/types.ts";
import { diffPaths } from "../libvirt/xml/diff_paths.ts";
import type { Store } from "../store/store.ts";
import { refString } from "../store/store.ts";
import { InvalidInputError } from "./errors.ts";

/** One changed field. */
export interface FieldChange {
  /** `spec.memory`, `spec.interfaces[1].ip`, `metadata.labels.app`. */
  path: string;
  cls?: ChangeClass;
  /** Why apply refuses this change, when it does. */
  refused?: string;
}

function labelsAndSpec(obj: AnyResource): Record<string, unknown> {
  return { metadata: { labels: obj.metadata.labels }, spec: obj.spec };
}

/** Does a Domain in the store use the Network `net`? */
export async function networkInUse(store: Store, net: AnyResource): Promise<boolean> {
  const domains = await store.list("Domain", { namespace: net.metadata.namespace }) as Domain[];
  return domains.some((d) => d.spec.interfaces.some((i) => i.network === net.metadata.name));
}

/** The fields that differ between `live` and `next`, classified; `inUse` for a Network used by Domains. */
export function changeEffects(live: AnyResource, next: AnyResource, inUse = false): FieldChange[] {
  return diffPaths(labelsAndSpec(live), labelsAndSpec(next)).map((path) => {
    const cls = live.kind === "Domain" && next.kind === "Domain"
      ? domainChangeClass(path, live.spec, next.spec)
      : changeClassOf(live.kind, path);
    const change: FieldChange = { path, cls };
    if (refuses(cls, inUse)) {
      change.refused = cls === "immutable-in-use"
        ? "cannot change while Domains use this network: delete and re-create it (or lv apply --force)"
        : "cannot change: delete and re-create the object (or lv apply --force)";
    }
    if (live.kind === "Volume" && next.kind === "Volume" && path === "spec.size") {
      const [from, to] = [live.spec.size ?? 0, next.spec.size ?? 0];
      if (to < from) {
        change.refused = `cannot shrink a volume (from ${from} to ${to} bytes); volumes only grow`;
      }
    }
    return change;
  });
}

/** Fails with every refused change of `obj`, at its file:line where the object came from a file. */
export function refuseChanges(obj: AnyResource, changes: FieldChange[], options: { force: boolean }): void {
  const refused = changes.filter((c) => c.refused && !(options.force && !c.refused.includes("shrink")));
  if (refused.length === 0) return;
  throw new InvalidInputError(refused.map((c) => {
    const at = positionOf(obj, c.path) ?? { file: "", line: 0, column: 0 };
    return formatProblem({ ...at, path: c.path, message: `${refString(obj)}: ${c.refused}` });
  }));
}

/** Does a change need the Domain restarted to take effect? */
export function needsRestart(changes: FieldChange[]): boolean {
  return changes.some((c) => c.cls === "restart");
}
