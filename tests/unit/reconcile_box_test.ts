import assert from "node:assert/strict";
import type { Box, Volume } from "../../src/api/types.ts";
import type { TransferProgress } from "../../src/box/transfer.ts";
import { FINALIZER, TerminalError, WaitingError } from "../../src/controller/context.ts";
import {
  converge,
  createAll,
  example,
  type Harness,
  key,
  mustGet,
  newHarness,
  pass,
  passOk,
  ready,
  runManagerUntil,
  TINY_IMG,
} from "./harness.ts";

const BOX: [["Box", string]] = [["Box", "tiny"]];

async function withBox(fn: (h: Harness) => Promise<void>, edit?: (b: Box) => void) {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, [example<Box>("Box", "tiny", edit)]);
    await fn(h);
  } finally {
    await h.close();
  }
}

Deno.test("boxReconciler uploads once and a second pass changes nothing", async () => {
  await withBox(async (h) => {
    await converge(h, BOX);
    assert.deepEqual(h.fake.mutations(), [
      ["vol-create", "--pool", "default", "/dev/stdin"],
      ["vol-upload", "--pool", "default", "box-tiny", TINY_IMG],
    ]);
    const vol = h.fake.volume("default", "box-tiny")!;
    assert.deepEqual(vol.uploads, [TINY_IMG]);
    assert.equal(vol.format, "raw");
    assert.equal(vol.capacity, 2 ** 20);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.deepEqual(box.metadata.finalizers, [FINALIZER]);
    assert.equal(ready(box)?.status, "True");
    assert.equal(box.status.volume, "box-tiny");
    assert.equal(box.status.pendingVolume, undefined);
    assert.equal(box.status.path, "/var/lib/libvirt/images/box-tiny");
    assert.equal(box.status.format, "raw");
    assert.equal(box.status.virtualSize, 2 ** 20);
    // A plain image without a checksum is not hashed (a read of the whole file for nothing).
    assert.equal(box.status.sha256, undefined);

    const mark = h.fake.mark();
    const head = await h.store.head();
    await passOk(h, "Box", "tiny");
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head);
  });
});

Deno.test("boxReconciler: deletion deletes the uploaded volume, then removes the finalizer", async () => {
  await withBox(async (h) => {
    await converge(h, BOX);
    await h.store.delete(key("Box", "tiny"));
    const mark = h.fake.mark();
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark), [["vol-delete", "--pool", "default", "box-tiny"]]);
    assert.equal(h.fake.volume("default", "box-tiny"), undefined);
    assert.equal(await h.store.get(key("Box", "tiny")), undefined);
  });
});

Deno.test("boxReconciler: deletion counts a volume already gone as done", async () => {
  await withBox(async (h) => {
    await converge(h, BOX);
    h.fake.seed(["vol-delete", "--pool", "default", "box-tiny"]);
    await h.store.delete(key("Box", "tiny"));
    const mark = h.fake.mark();
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.get(key("Box", "tiny")), undefined);
  });
});

Deno.test("boxReconciler: a Volume backed by the Box blocks its deletion until the Volume is gone", async () => {
  await withBox(async (h) => {
    await h.store.create(example<Volume>("Volume", "web-data", (v) => {
      v.spec.backingBox = "tiny";
      delete v.spec.size;
    }));
    await converge(h, [["Box", "tiny"], ["Volume", "web-data"]]);
    await h.store.delete(key("Box", "tiny"));
    const mark = h.fake.mark();
    const r = await pass(h, "Box", "tiny");
    assert.ok(r.error instanceof WaitingError);
    assert.equal(r.error.reason, "InUse");
    assert.match(r.error.message, /volume\/web-data/);
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.ok(h.fake.volume("default", "box-tiny"));
    assert.ok(await h.store.get(key("Box", "tiny")));

    await h.store.delete(key("Volume", "web-data"));
    await passOk(h, "Volume", "web-data");
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark).map((c) => c.slice(0, 4).join(" ")), [
      "vol-delete --pool default web-data",
      "vol-delete --pool default box-tiny",
    ]);
    assert.equal(await h.store.get(key("Box", "tiny")), undefined);
  });
});

Deno.test("boxReconciler: the same through the Manager — the Box goes once its Volume has gone", async () => {
  await withBox(async (h) => {
    await h.store.create(example<Volume>("Volume", "web-data", (v) => v.spec.backingBox = "tiny"));
    await runManagerUntil(
      h,
      async () => ready(await h.store.get(key("Volume", "web-data")))?.status === "True",
    );
    await h.store.delete(key("Box", "tiny"));
    await h.store.delete(key("Volume", "web-data"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Box", "tiny"))), { timeoutMs: 8000 });
    assert.equal(h.fake.volume("default", "web-data"), undefined);
    assert.equal(h.fake.volume("default", "box-tiny"), undefined);
    const deletes = h.fake.callsOf("vol-delete").map((c) => c[3]);
    assert.deepEqual(deletes, ["web-data", "box-tiny"], "the overlay first, then its backing box");
  });
});

Deno.test("boxReconciler recovers from an interrupted upload: the partial volume is replaced", async () => {
  await withBox(async (h) => {
    h.fake.failNext("vol-upload", "Cannot recv data: Connection reset by peer");
    const r = await pass(h, "Box", "tiny");
    assert.ok(r.error);
    assert.ok(h.fake.volume("default", "box-tiny"), "created, never filled");
    assert.equal((await mustGet<Box>(h, "Box", "tiny")).status.pendingVolume, "box-tiny");
    const mark = h.fake.mark();
    await converge(h, BOX);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["vol-delete", "vol-create", "vol-upload"]);
    assert.deepEqual(h.fake.volume("default", "box-tiny")!.uploads, [TINY_IMG]);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    assert.equal(box.status.pendingVolume, undefined);
  });
});

Deno.test("boxReconciler recovers from a crash right after vol-create: no NameConflict, uploaded once", async () => {
  await withBox(async (h) => {
    h.fake.failNext("vol-create", "End of file while reading data: Input/output error", {
      afterEffect: true,
    });
    assert.ok((await pass(h, "Box", "tiny")).error);
    await converge(h, BOX);
    assert.equal(ready(await h.store.get(key("Box", "tiny")))?.status, "True");
    assert.deepEqual(h.fake.volume("default", "box-tiny")!.uploads, [TINY_IMG]);
  });
});

Deno.test("boxReconciler: a same-named volume lv did not create gets NameConflict and is never modified or deleted", async () => {
  await withBox(async (h) => {
    h.fake.seed(
      ["vol-create", "--pool", "default", "/dev/stdin"],
      "<volume><name>box-tiny</name><capacity>4096</capacity><target><format type='raw'/></target></volume>",
    );
    await runManagerUntil(
      h,
      async () => ready(await h.store.get(key("Box", "tiny")))?.reason === "NameConflict",
    );
    assert.deepEqual(h.fake.mutations(), []);
    await h.store.delete(key("Box", "tiny"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Box", "tiny"))));
    assert.deepEqual(h.fake.mutations(), []);
    assert.equal(h.fake.volume("default", "box-tiny")!.capacity, 4096);
  });
});

Deno.test("boxReconciler: a source that cannot work is terminal (InvalidSource, ChecksumMismatch) and creates no volume", async (t) => {
  const cases: [string, (b: Box) => void, string, RegExp][] = [
    ["a missing file", (b) => b.spec.source = "/nonexistent/lv-test.img", "InvalidSource", /cannot be read/],
    [
      "a checksum mismatch",
      (b) => b.spec.checksum = `sha256:${"0".repeat(64)}`,
      "ChecksumMismatch",
      /checksum mismatch/,
    ],
  ];
  for (const [name, edit, reason, message] of cases) {
    await t.step(name, async () => {
      await withBox(async (h) => {
        const r = await pass(h, "Box", "tiny");
        assert.ok(r.error instanceof TerminalError, String(r.error));
        assert.equal(r.error.reason, reason);
        assert.match(r.error.message, message);
        assert.deepEqual(h.fake.mutations(), []);
      }, edit);
    });
  }
});

Deno.test("boxReconciler reports upload progress through ctx.transfer; a failed upload ends not ok and not Ready", async () => {
  await withBox(async (h) => {
    const reports: [string, TransferProgress][] = [];
    h.ctx.transfer = (obj, p) => reports.push([`${obj.kind}/${obj.metadata.name}`, p]);
    h.fake.failNext("vol-upload", "Cannot recv data: Connection reset by peer");
    assert.ok((await pass(h, "Box", "tiny")).error);
    const size = (await Deno.stat(TINY_IMG)).size;
    assert.deepEqual(reports, [
      ["Box/tiny", { direction: "upload", label: "box-tiny", done: 0, total: size }],
      ["Box/tiny", {
        direction: "upload",
        label: "box-tiny",
        done: 0,
        total: size,
        finished: true,
        ok: false,
      }],
    ]);
    assert.notEqual(ready(await mustGet<Box>(h, "Box", "tiny"))?.status, "True");

    reports.length = 0;
    await converge(h, BOX);
    assert.deepEqual(reports.at(-1), [
      "Box/tiny",
      { direction: "upload", label: "box-tiny", done: size, total: size, finished: true, ok: true },
    ]);
    assert.equal(reports[0][1].done, 0);
  });
});
