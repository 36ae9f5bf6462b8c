/** The exports(5) block lv manages per Domain. */
import assert from "node:assert/strict";
import { exportsBlock, withBlock } from "../../src/guest/nfs_exports.ts";

Deno.test("exportsBlock() renders one quoted line per folder between markers", () => {
  const block = exportsBlock("uid-1", [{
    path: "/home/me/my project",
    client: "10.0.0.5",
    uid: 1000,
    gid: 100,
  }]);
  assert.match(
    block,
    /^# lv-begin uid-1\n"\/home\/me\/my project" 10\.0\.0\.5\(rw,no_subtree_check,all_squash,anonuid=1000,anongid=100,fsid=\d+\)\n# lv-end uid-1\n$/,
  );
  assert.equal(exportsBlock("uid-1", []), "");
  assert.throws(
    () => exportsBlock("u", [{ path: '/a"b', client: "1.2.3.4", uid: 0, gid: 0 }]),
    /not allowed/,
  );
  assert.throws(
    () => exportsBlock("u", [{ path: "/a\nb", client: "1.2.3.4", uid: 0, gid: 0 }]),
    /not allowed/,
  );
});

Deno.test("withBlock() replaces only its owner's block, where it is, and keeps everything else", () => {
  const other = "/srv/nfs 192.168.1.0/24(ro)\n";
  const a1 = exportsBlock("a", [{ path: "/x", client: "10.0.0.2", uid: 0, gid: 0 }]);
  const a2 = exportsBlock("a", [{ path: "/y", client: "10.0.0.2", uid: 0, gid: 0 }]);
  const b = exportsBlock("b", [{ path: "/z", client: "10.0.0.3", uid: 0, gid: 0 }]);
  const one = withBlock(other, "a", a1);
  assert.equal(one, other + a1);
  const two = withBlock(one, "b", b);
  assert.equal(withBlock(two, "a", a2), other + a2 + b, "replaced in place");
  assert.equal(withBlock(withBlock(two, "a", a1), "b", b), two, "the same blocks again: the same text");
  assert.equal(withBlock(two, "a", ""), other + b);
  assert.equal(withBlock("/srv 1.2.3.4(ro)", "a", a1), "/srv 1.2.3.4(ro)\n" + a1);
  assert.equal(withBlock(other, "a", ""), other);
});
