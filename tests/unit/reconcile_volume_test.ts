import assert from "node:assert/strict";
import type { Box, Domain, Volume } from "../../src/api/types.ts";
import { FINALIZER, WaitingError } from "../../src/controller/context.ts";
import {
  converge,
  createAll,
  editSpec,
  example,
  type Harness,
  key,
  mustGet,
  newHarness,
  pass,
  passOk,
  ready,
  runManagerUntil,
} from "./harness.ts";

const MiB = 2 ** 20;
const VOL: [["Volume", string]] = [["Volume", "web-data"]];

async function withVolume(
  fn: (h: Harness, vol: Volume) => Promise<void>,
  options: { defaultPool?: boolean; edit?: (v: Volume) => void } = {},
) {
  const h = await newHarness({ defaultPool: options.defaultPool });
  try {
    const [vol] = await createAll(h, [example<Volume>("Volume", "web-data", options.edit)]);
    await fn(h, vol as Volume);
  } finally {
    await h.close();
  }
}

Deno.test("volumeReconciler converges from nothing: creates the default pool, then the volume", async () => {
  await withVolume(async (h) => {
    await converge(h, VOL);
    assert.deepEqual(h.fake.mutations().map((c) => c.slice(0, 2).join(" ")), [
      "pool-define /dev/stdin",
      "pool-build default",
      "pool-start default",
      "pool-autostart default",
      "vol-create --pool",
    ]);
    const pool = h.fake.pools.get("default")!;
    assert.equal(pool.path, "/var/lib/libvirt/images");
    assert.equal(pool.active, true);
    const fakeVol = h.fake.volume("default", "web-data")!;
    assert.equal(fakeVol.capacity, 64 * MiB);
    assert.equal(fakeVol.format, "qcow2");
    const vol = await mustGet<Volume>(h, "Volume", "web-data");
    assert.deepEqual(vol.metadata.finalizers, [FINALIZER]);
    assert.equal(ready(vol)?.status, "True");
    assert.equal(vol.status.volume, "web-data");
    assert.equal(vol.status.pendingVolume, undefined);
    assert.equal(vol.status.path, "/var/lib/libvirt/images/web-data");
    assert.equal(vol.status.capacity, 64 * MiB);
  });
});

Deno.test("volumeReconciler uses an existing pool as it is", async () => {
  await withVolume(async (h) => {
    await converge(h, VOL);
    assert.deepEqual(h.fake.mutations().map((c) => c[0]), ["vol-create"]);
  }, { defaultPool: true });
});

Deno.test("volumeReconciler starts an inactive pool", async () => {
  await withVolume(async (h) => {
    h.fake.pools.get("default")!.active = false;
    await converge(h, VOL);
    // Building an existing dir pool changes nothing; it repairs a pool defined but never built (a crash).
    assert.deepEqual(h.fake.mutations().map((c) => c[0]), ["pool-build", "pool-start", "vol-create"]);
  }, { defaultPool: true });
});

Deno.test("volumeReconciler: a missing pool other than default is waited for with a hint, not created", async () => {
  await withVolume(async (h) => {
    const r = await pass(h, "Volume", "web-data");
    assert.ok(r.error instanceof WaitingError);
    assert.equal(r.error.reason, "PoolNotFound");
    assert.match(r.error.message, /virsh pool-define-as fast/);
    assert.deepEqual(h.fake.mutations(), []);
  }, { edit: (v) => v.spec.pool = "fast" });
});

Deno.test("volumeReconciler: a second pass over a converged volume makes no libvirt change", async () => {
  await withVolume(async (h) => {
    await converge(h, VOL);
    const mark = h.fake.mark();
    const head = await h.store.head();
    await passOk(h, "Volume", "web-data");
    await passOk(h, "Volume", "web-data");
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head);
  }, { defaultPool: true });
});

Deno.test("volumeReconciler applies a size change: grows once, never shrinks", async (t) => {
  await withVolume(async (h) => {
    await converge(h, VOL);
    await t.step("growing resizes the volume", async () => {
      await editSpec<Volume>(h, "Volume", "web-data", (v) => v.spec.size = 128 * MiB);
      const mark = h.fake.mark();
      await converge(h, VOL);
      assert.deepEqual(h.fake.mutations(mark), [[
        "vol-resize",
        "--pool",
        "default",
        "web-data",
        String(128 * MiB),
      ]]);
      assert.equal(h.fake.volume("default", "web-data")!.capacity, 128 * MiB);
      const vol = await mustGet<Volume>(h, "Volume", "web-data");
      assert.equal(vol.status.capacity, 128 * MiB);
      assert.equal(vol.status.observedGeneration, vol.metadata.generation);
    });
    await t.step("shrinking changes nothing and says why", async () => {
      await editSpec<Volume>(h, "Volume", "web-data", (v) => v.spec.size = 32 * MiB);
      const mark = h.fake.mark();
      await converge(h, VOL);
      assert.deepEqual(h.fake.mutations(mark), []);
      assert.equal(h.fake.volume("default", "web-data")!.capacity, 128 * MiB);
      const vol = await mustGet<Volume>(h, "Volume", "web-data");
      assert.match(ready(vol)!.message, /volumes only grow/);
    });
  }, { defaultPool: true });
});

Deno.test("volumeReconciler: deletion deletes the libvirt volume, then removes the finalizer", async () => {
  await withVolume(async (h) => {
    await converge(h, VOL);
    await h.store.delete(key("Volume", "web-data"));
    const mark = h.fake.mark();
    await passOk(h, "Volume", "web-data");
    assert.deepEqual(h.fake.mutations(mark), [["vol-delete", "--pool", "default", "web-data"]]);
    assert.equal(h.fake.volume("default", "web-data"), undefined);
    assert.equal(await h.store.get(key("Volume", "web-data")), undefined);
  }, { defaultPool: true });
});

Deno.test("volumeReconciler: deletion counts a volume already gone as done", async (t) => {
  await t.step("removed by hand before the pass", async () => {
    await withVolume(async (h) => {
      await converge(h, VOL);
      h.fake.seed(["vol-delete", "--pool", "default", "web-data"]);
      await h.store.delete(key("Volume", "web-data"));
      await passOk(h, "Volume", "web-data");
      assert.equal(await h.store.get(key("Volume", "web-data")), undefined);
    }, { defaultPool: true });
  });
  await t.step("removed between lv's look and its delete", async () => {
    await withVolume(async (h) => {
      await converge(h, VOL);
      await h.store.delete(key("Volume", "web-data"));
      h.fake.failNext(
        "vol-delete",
        "failed to get vol 'web-data'\nStorage volume not found: no storage vol with matching path 'web-data'",
        { afterEffect: true },
      );
      await passOk(h, "Volume", "web-data");
      assert.equal(h.fake.volume("default", "web-data"), undefined);
      assert.equal(await h.store.get(key("Volume", "web-data")), undefined);
    }, { defaultPool: true });
  });
  await t.step("its pool is gone too", async () => {
    await withVolume(async (h) => {
      await converge(h, VOL);
      h.fake.pools.delete("default");
      await h.store.delete(key("Volume", "web-data"));
      await passOk(h, "Volume", "web-data");
      assert.equal(await h.store.get(key("Volume", "web-data")), undefined);
    }, { defaultPool: true });
  });
});

Deno.test({
  name:
    "volumeReconciler: deletion while libvirt is unreachable keeps the finalizer (does not leak the volume)",
  // Guards deleteVolumeOf (controller/storage.ts, used by the Volume and Box reconcilers): only a NameConflict
  // (TerminalError) counts as "not ours to delete"; any other failure of claimVolume, such as an unreachable
  // libvirt, fails the pass so that the manager retries, and the finalizer stays until the volume is gone.

  fn: async () => {
    await withVolume(async (h) => {
      await converge(h, VOL);
      await h.store.delete(key("Volume", "web-data"));
      h.fake.unreachable = true;
      const r = await pass(h, "Volume", "web-data");
      assert.ok(r.error, "the pass must fail so that it is retried");
      assert.ok(await h.store.get(key("Volume", "web-data")), "the finalizer must stay");
      h.fake.unreachable = false;
      await passOk(h, "Volume", "web-data");
      assert.equal(
        h.fake.volume("default", "web-data"),
        undefined,
        "the volume is deleted once libvirt is back",
      );
    }, { defaultPool: true });
  },
});

Deno.test("volumeReconciler: a same-named volume lv did not create gets NameConflict and is never modified or deleted", async () => {
  await withVolume(async (h) => {
    h.fake.seed(
      ["vol-create", "--pool", "default", "/dev/stdin"],
      "<volume><name>web-data</name><capacity>1024</capacity><target><format type='raw'/></target></volume>",
    );
    await runManagerUntil(
      h,
      async () => ready(await h.store.get(key("Volume", "web-data")))?.reason === "NameConflict",
    );
    assert.match(ready(await h.store.get(key("Volume", "web-data")))!.message, /lv did not create/);
    assert.deepEqual(h.fake.mutations(), []);
    await h.store.delete(key("Volume", "web-data"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Volume", "web-data"))));
    assert.deepEqual(h.fake.mutations(), []);
    assert.equal(h.fake.volume("default", "web-data")!.capacity, 1024);
  }, { defaultPool: true });
});

Deno.test("volumeReconciler recovers from a crash between recording its intent and vol-create completing", async (t) => {
  await t.step(
    "the volume was created but lv never recorded it complete: recreated, no NameConflict",
    async () => {
      await withVolume(async (h) => {
        h.fake.failNext("vol-create", "Cannot recv data: Connection reset by peer", { afterEffect: true });
        const r = await pass(h, "Volume", "web-data");
        assert.ok(r.error, "the pass died mid-operation");
        assert.ok(h.fake.volume("default", "web-data"), "the volume exists in libvirt");
        const mid = await mustGet<Volume>(h, "Volume", "web-data");
        assert.equal(mid.status.pendingVolume, "web-data");
        assert.equal(mid.status.volume, undefined);
        const mark = h.fake.mark();
        await converge(h, VOL);
        assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["vol-delete", "vol-create"]);
        const vol = await mustGet<Volume>(h, "Volume", "web-data");
        assert.equal(ready(vol)?.status, "True");
        assert.equal(vol.status.volume, "web-data");
        assert.equal(vol.status.pendingVolume, undefined);
      }, { defaultPool: true });
    },
  );
  await t.step("vol-create never ran: created on the next pass", async () => {
    await withVolume(async (h) => {
      h.fake.failNext("vol-create", "Cannot recv data: Connection reset by peer");
      assert.ok((await pass(h, "Volume", "web-data")).error);
      assert.equal(h.fake.volume("default", "web-data"), undefined);
      await converge(h, VOL);
      assert.ok(h.fake.volume("default", "web-data"));
      assert.equal(ready(await h.store.get(key("Volume", "web-data")))?.status, "True");
    }, { defaultPool: true });
  });
});

Deno.test("volumeReconciler: a Box-backed volume waits for the box, then is a qcow2 overlay on it", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, [
      example<Box>("Box", "tiny"),
      example<Volume>("Volume", "web-data", (v) => {
        v.spec.backingBox = "tiny";
        delete v.spec.size;
      }),
    ]);
    const r = await pass(h, "Volume", "web-data");
    assert.ok(r.error instanceof WaitingError);
    assert.equal(r.error.reason, "WaitingForBox");
    assert.equal(h.fake.volume("default", "web-data"), undefined);
    await converge(h, [["Box", "tiny"], ["Volume", "web-data"]]);
    const box = await mustGet<Box>(h, "Box", "tiny");
    const fakeVol = h.fake.volume("default", "web-data")!;
    assert.deepEqual(fakeVol.backingStore, { path: box.status.path, format: "raw" });
    assert.equal(fakeVol.format, "qcow2");
    assert.equal(fakeVol.capacity, MiB, "the box's virtual size when the volume names none");
    const vol = await mustGet<Volume>(h, "Volume", "web-data");
    assert.equal(vol.status.backingStore, box.status.path);
    assert.deepEqual(box.status.usedBy, ["web-data"]);
  } finally {
    await h.close();
  }
});

Deno.test("volumeReconciler: a volume a Domain uses is not deleted until the Domain is gone", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, [
      example<Volume>("Volume", "web-data"),
      example<Domain>("Domain", "web", (d) => {
        delete d.spec.box;
        d.spec.interfaces = [];
        d.spec.communicator = "none";
      }),
    ]);
    await converge(h, [["Volume", "web-data"], ["Domain", "web"]]);
    await h.store.delete(key("Volume", "web-data"));
    const r = await pass(h, "Volume", "web-data");
    assert.ok(r.error instanceof WaitingError);
    assert.equal(r.error.reason, "InUse");
    assert.match(r.error.message, /domain\/web/);
    assert.ok(h.fake.volume("default", "web-data"), "still there");
    await h.store.delete(key("Domain", "web"));
    await passOk(h, "Domain", "web");
    await passOk(h, "Volume", "web-data");
    assert.equal(h.fake.volume("default", "web-data"), undefined);
    assert.equal(await h.store.get(key("Volume", "web-data")), undefined);
  } finally {
    await h.close();
  }
});
