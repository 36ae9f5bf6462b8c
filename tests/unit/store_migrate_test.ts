import assert from "node:assert/strict";
import { join } from "node:path";
import type { Volume } from "../../src/api/types.ts";
import { main } from "../../src/cli/main.ts";
import { MigrateConflictError, migrateStore } from "../../src/store/migrate.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { KEY, network, volume } from "./store_suite.ts";

async function withTwo(fn: (a: SqliteStore, b: SqliteStore, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "lv-migrate-" });
  const a = new SqliteStore(join(dir, "a.db"));
  const b = new SqliteStore(join(dir, "b.db"));
  try {
    await fn(a, b, dir);
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("migrateStore() copies every object with uid, generation, finalizers and status; again: nothing to do", async () => {
  await withTwo(async (a, b) => {
    let v = await a.create({
      ...volume("disk"),
      metadata: { ...volume("disk").metadata, finalizers: ["f"] },
    });
    v = await a.update({ ...v, spec: { ...(v as Volume).spec, size: 9 } } as Volume);
    v = await a.updateStatus({ ...v, status: { phase: "Ready", observedGeneration: 2 } });
    await a.delete(KEY);
    await a.create(network("net", "lab"));
    const first = await migrateStore(a, b);
    assert.deepEqual(first.copied.map((o) => o.metadata.name).sort(), ["disk", "net"]);
    const copied = (await b.get(KEY))!;
    const original = (await a.get(KEY))!;
    assert.deepEqual({ ...copied.metadata, resourceVersion: "" }, {
      ...original.metadata,
      resourceVersion: "",
    });
    assert.equal(copied.metadata.generation, 2);
    assert.ok(copied.metadata.deletionTimestamp);
    assert.deepEqual(copied.status, original.status);
    assert.deepEqual(copied.spec, original.spec);
    const again = await migrateStore(a, b);
    assert.deepEqual([again.copied.length, again.skipped.length], [0, 2]);
  });
});

Deno.test("migrateStore() copies nothing when the destination has a same-named object with another uid", async () => {
  await withTwo(async (a, b) => {
    await a.create(volume("disk"));
    await a.create(volume("other"));
    await b.create(volume("disk"));
    await assert.rejects(() => migrateStore(a, b), (e: Error) => {
      assert.ok(e instanceof MigrateConflictError);
      assert.match(e.message, /already holds volume\/disk with other uids; nothing was copied/);
      return true;
    });
    assert.equal(await b.get({ ...KEY, name: "other" }), undefined);
  });
});

Deno.test("lv store migrate --to sqlite:PATH copies the store; without --to it is a usage error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-migrate-cli-" });
  Deno.env.set("LV_HOME", dir);
  Deno.env.set("LV_CONNECT", "test:///nowhere");
  try {
    const source = new SqliteStore(join(dir, "store.db"));
    await source.create(volume("disk"));
    source.close();
    const out = {
      stdout: "",
      stderr: "",
      out: (t: string) => void (out.stdout += t),
      err: (t: string) => void (out.stderr += t),
    };
    assert.equal(await main(["store", "migrate", "--to", `sqlite:${dir}/copy.db`], out), 0, out.stderr);
    assert.equal(out.stdout, "volume/disk copied\n");
    assert.match(out.stderr, /1 copied, 0 already there/);
    const copy = new SqliteStore(join(dir, "copy.db"));
    assert.ok(await copy.get(KEY));
    copy.close();
    assert.equal(await main(["store", "migrate"], out), 2);
    assert.match(out.stderr, /lv store migrate needs --to URL/);
  } finally {
    Deno.env.delete("LV_HOME");
    Deno.env.delete("LV_CONNECT");
    await Deno.remove(dir, { recursive: true });
  }
});
