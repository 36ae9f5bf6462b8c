/** The system store's file: prepared by root for its group, refused with the path and the fix otherwise. */
import assert from "node:assert/strict";
import { groupId, prepareSharedStore, StoreAccessError } from "../../src/store/shared_store_file.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";

const isRoot = Deno.uid() === 0;

function fixture(): { dir: string; groupFile: string; gid: number } {
  const dir = Deno.makeTempDirSync({ prefix: "lv-shared-" });
  const gid = 4242;
  const groupFile = `${dir}/group`;
  Deno.writeTextFileSync(groupFile, `root:x:0:\nlvtest:x:${gid}:alice,bob\n`);
  return { dir, groupFile, gid };
}

Deno.test("groupId() reads /etc/group's format", () => {
  const { dir, groupFile, gid } = fixture();
  try {
    assert.equal(groupId("lvtest", groupFile), gid);
    assert.equal(groupId("root", groupFile), 0);
    assert.equal(groupId("nobody-here", groupFile), undefined);
    assert.equal(groupId("lvtest", `${dir}/missing`), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "prepareSharedStore() as root: directory GROUP 2770 (setgid), file GROUP 0660, SQLite's files alike",
  ignore: !isRoot,
  fn() {
    const { dir, groupFile, gid } = fixture();
    try {
      const path = `${dir}/lib/lv/store.db`;
      const shared = { group: "lvtest", groupFile };
      prepareSharedStore(path, shared);
      const d = Deno.statSync(`${dir}/lib/lv`);
      assert.deepEqual([d.mode! & 0o7777, d.gid], [0o2770, gid]);
      const f = Deno.statSync(path);
      assert.deepEqual([f.mode! & 0o777, f.gid], [0o660, gid]);
      // Opened by SQLite (as root): the -wal and -shm files get the database file's mode and group.
      const store = new SqliteStore(path, { shared });
      try {
        for (const extra of ["-wal", "-shm"]) {
          const s = Deno.statSync(path + extra);
          assert.deepEqual([s.mode! & 0o777, s.gid], [0o660, gid], extra);
        }
      } finally {
        store.close();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "prepareSharedStore() as root without the group: an error naming the store and the group",
  ignore: !isRoot,
  fn() {
    const { dir, groupFile } = fixture();
    try {
      assert.throws(
        () => prepareSharedStore(`${dir}/lv/store.db`, { group: "nogroup-x", groupFile }),
        (e) => {
          assert.ok(e instanceof StoreAccessError);
          assert.match(
            e.message,
            new RegExp(`cannot prepare the store ${dir}/lv/store.db: there is no group nogroup-x`),
          );
          return true;
        },
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "prepareSharedStore() of a file that opens read-write: used as it is (no group lookup or directory work)",
  ignore: !isRoot,
  fn() {
    const { dir, groupFile, gid } = fixture();
    try {
      const path = `${dir}/lib/lv/store.db`;
      prepareSharedStore(path, { group: "lvtest", groupFile });
      Deno.chmodSync(`${dir}/lib/lv`, 0o2750); // left as it is until root makes a new file there
      // Every open of the store (lv get included) pays for this work otherwise: the group file read, the
      // directory made, stated, chowned and chmodded, a failed exclusive create.
      prepareSharedStore(path, { group: "nogroup-x", groupFile: `${dir}/missing` });
      const d = Deno.statSync(`${dir}/lib/lv`);
      assert.deepEqual([d.mode! & 0o7777, d.gid], [0o2750, gid]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
