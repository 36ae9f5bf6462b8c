/** Host paths in manifests are relative to the file they are written in. */
import { isAbsolute, resolve } from "node:path";
import type { AnyResource } from "../api/types.ts";

/** Makes relative host paths in a resource absolute, against the directory of the file it came from. */
export function absolutize(obj: AnyResource, baseDir: string): void {
  const abs = (p: string) => isAbsolute(p) ? p : resolve(baseDir, p);
  if (obj.kind === "Box" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(obj.spec.source)) {
    obj.spec.source = abs(obj.spec.source);
  }
  if (obj.kind === "Domain") {
    if (obj.spec.ssh.privateKey) obj.spec.ssh.privateKey = abs(obj.spec.ssh.privateKey);
    for (const p of obj.spec.provision) if (p.path) p.path = abs(p.path);
    for (const f of obj.spec.syncedFolders) f.source = abs(f.source);
  }
}
