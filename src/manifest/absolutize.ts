/** Host paths in manifests are relative to the file they are written in. */
import { isAbsolutePath as isAbsolute, resolvePath as resolve } from "../api/posix_path.ts";
import { isCatalogName } from "../api/box_catalog_names.ts";
import type { AnyResource } from "../api/types.ts";
import { isUserDataPath } from "./user_data_text.ts";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Makes relative host paths in a resource absolute, against the directory of the file it came from. */
export function absolutize(obj: AnyResource, baseDir: string): void {
  const abs = (p: string) => isAbsolute(p) ? p : resolve(baseDir, p);
  if (obj.kind === "Box" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(obj.spec.source)) {
    // USER/NAME is a catalog name unless such a file exists, as Vagrant decides for config.vm.box.
    if (!isCatalogName(obj.spec.source) || isFile(abs(obj.spec.source))) {
      obj.spec.source = abs(obj.spec.source);
    }
  }
  if (obj.kind === "Domain") {
    if (obj.spec.ssh.privateKey) obj.spec.ssh.privateKey = abs(obj.spec.ssh.privateKey);
    for (const p of obj.spec.provision) {
      if (p.type === "shell" && p.path) p.path = abs(p.path);
      if (p.type === "file") p.source = abs(p.source);
      if (p.type === "ansible") p.playbook = abs(p.playbook);
      if (p.type === "puppet") {
        p.manifestsPath = abs(p.manifestsPath);
        if (p.modulePath) p.modulePath = abs(p.modulePath);
      }
      if (p.type === "salt") {
        if (p.statesPath) p.statesPath = abs(p.statesPath);
        if (p.minionConfig) p.minionConfig = abs(p.minionConfig);
      }
    }
    for (const f of obj.spec.syncedFolders) f.source = abs(f.source);
    const userData = obj.spec.cloudInit?.userData;
    if (typeof userData === "string" && isUserDataPath(userData)) {
      obj.spec.cloudInit!.userData = abs(userData);
    }
  }
}
