/** Which objects an object depends on, and so which objects depend on it. */
import { boxVolumeName } from "./box_volumes.ts";
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
