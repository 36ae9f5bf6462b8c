/** apply refuses 9p and virtiofs folders on a remote libvirt host, at the folder's file:line, before writing. */
import assert from "node:assert/strict";
import { refuseRemoteDeviceFolders } from "../../src/cli/device_folder_checks.ts";
import { InvalidInputError } from "../../src/cli/errors.ts";
import { parseManifests } from "../../src/manifest/parse.ts";

const TEXT = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  syncedFolders:
    - {source: /srv/a, target: /a}
    - {source: /srv/b, target: /b, type: virtiofs}
    - {source: /srv/c, target: /c, type: 9p}
`;

Deno.test("refuseRemoteDeviceFolders() names each 9p and virtiofs folder of a Domain on a remote host; local and rsync pass", () => {
  const { resources, problems } = parseManifests(TEXT, "web.yaml");
  assert.deepEqual(problems, []);
  refuseRemoteDeviceFolders(resources, () => "qemu:///system");
  refuseRemoteDeviceFolders(resources, () => "qemu:///session");
  let err: unknown;
  try {
    refuseRemoteDeviceFolders(resources, () => "qemu+ssh://lab/system");
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof InvalidInputError, String(err));
  assert.deepEqual(err.lines, [
    "web.yaml:7:42: spec.syncedFolders[1].type: domain/web: a virtiofs folder needs libvirt on this machine; " +
    "qemu+ssh://lab/system is on another host (use type: rsync)",
    "web.yaml:8:42: spec.syncedFolders[2].type: domain/web: a 9p folder needs libvirt on this machine; " +
    "qemu+ssh://lab/system is on another host (use type: rsync)",
  ]);
});
