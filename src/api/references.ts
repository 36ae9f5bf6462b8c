/** Which objects an object depends on, and so which objects depend on it. */
import type { AnyResource, ObjectKey } from "./types.ts";

/** The objects `obj` needs to exist and be ready before it can be, in the same namespace. */
export function referencesOf(obj: AnyResource): ObjectKey[] {
  const namespace = obj.metadata.namespace;
  const refs: ObjectKey[] = [];
  const add = (kind: ObjectKey["kind"], name: string | undefined) => {
    if (name && !refs.some((r) => r.kind === kind && r.name === name)) refs.push({ kind, namespace, name });
  };
  switch (obj.kind) {
    case "Volume":
      add("Box", obj.spec.backingBox);
      break;
    case "Domain":
      if (obj.spec.box) add("Volume", boxVolumeName(obj.metadata.name));
      for (const disk of obj.spec.disks) add("Volume", disk.volume);
      for (const nic of obj.spec.interfaces) add("Network", nic.network);
      break;
  }
  return refs;
}

/** Whether `obj` references `key`. */
export function refersTo(obj: AnyResource, key: ObjectKey): boolean {
  return obj.metadata.namespace === key.namespace &&
    referencesOf(obj).some((r) => r.kind === key.kind && r.name === key.name);
}

/** The Volume a Domain's `box:` shortcut creates is named after the domain. */
export function boxVolumeName(domainName: string): string {
  return domainName;
}

/**
 * The Volume of disk `n` (1-based) of a multi-disk box under a Domain's `box:` shortcut: the first is
 * named after the domain, the others `<domain>-disk2`, `<domain>-disk3`, ...
 */
export function boxOverlayName(domainName: string, n: number): string {
  return n === 1 ? boxVolumeName(domainName) : `${domainName}-disk${n}`;
}
