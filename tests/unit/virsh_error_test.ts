/** How lv reads virsh's failures: not found (nothing to do) versus libvirt unreachable (retry). */
import assert from "node:assert/strict";
import { VirshError } from "../../src/libvirt/virsh.ts";

const error = (stderr: string) => new VirshError(["vol-dumpxml"], { code: 1, stdout: "", stderr });

Deno.test("VirshError: a missing object is notFound", () => {
  const e = error(
    "error: failed to get vol 'x'\nerror: Storage volume not found: no storage vol with matching path 'x'\n",
  );
  assert.equal(e.notFound, true);
  assert.equal(e.unreachable, false);
});

Deno.test("VirshError: a dropped connection is unreachable, never notFound (lv would think a delete done)", () => {
  const e = error("error: failed to get vol 'x'\nerror: Cannot recv data: Connection reset by peer\n");
  assert.equal(e.unreachable, true);
  assert.equal(e.notFound, false);
});

Deno.test("VirshError: a keepalive timeout (libvirtd stopped) is unreachable", () => {
  const e = error(
    "error: failed to get domain 'web'\nerror: internal error: connection closed due to keepalive timeout\n",
  );
  assert.equal(e.unreachable, true);
  assert.equal(e.notFound, false);
});
