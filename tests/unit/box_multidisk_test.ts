/**
 * Vagrant libvirt boxes with several disks (metadata.json `disks[]`, format v2): each disk its own base
 * volume (box-NAME, box-NAME-2, ...), recorded in Box status.disks; Volume.backingBoxDisk picks one; a
 * Domain's `box:` makes one overlay per disk; deleting removes every volume.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeMultiDiskBox } from "./box_files.ts";
import type { AnyResource, Box, Domain, Kind, Volume } from "../../src/api/types.ts";
import { BoxSourceError, resolveBoxSource } from "../../src/box/box_source.ts";
import { TerminalError } from "../../src/controller/context.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import {
  allReady,
  basicExample,
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
} from "./harness.ts";

const MiB = 1 << 20;

Deno.test("resolveBoxSource() returns every disk of a v2 box, in order", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "lv-multi-" });
  try {
    const cacheDir = join(dir, "cache");
    await t.step("two disks", async () => {
      const image = await resolveBoxSource(await makeMultiDiskBox(dir), undefined, { cacheDir });
      assert.deepEqual(
        image.disks.map((d) => [d.path.split("/").at(-1), d.format, d.virtualSize]),
        [["disk1.qcow2", "qcow2", MiB], ["disk2.qcow2", "qcow2", 2 * MiB]],
      );
      assert.deepEqual([image.path, image.format, image.virtualSize], [image.disks[0].path, "qcow2", MiB]);
    });
    const bad: [string, object, RegExp][] = [
      ["an empty disks list", { provider: "libvirt", disks: [] }, /"disks" must be a non-empty list/],
      ["a disk without a path", { provider: "libvirt", disks: [{ path: "disk1.qcow2" }, {}] }, /disks\[1\]/],
      [
        "a second disk outside the box",
        { provider: "libvirt", disks: [{ path: "disk1.qcow2" }, { path: "x/../../etc/passwd" }] },
        /outside the box/,
      ],
      [
        "a disk missing from the archive",
        { provider: "libvirt", disks: [{ path: "disk1.qcow2" }, { path: "disk3.qcow2" }] },
        /cannot read disk image disk3\.qcow2/,
      ],
    ];
    for (const [name, metadata, message] of bad) {
      await t.step(`${name} is refused (BoxSourceError)`, async () => {
        await assert.rejects(
          resolveBoxSource(await makeMultiDiskBox(dir, metadata), undefined, { cacheDir }),
          (e: Error) => e instanceof BoxSourceError && message.test(e.message),
        );
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** basic.yaml's objects with the Box made from a 2-disk .box; the Domain has no guest OS. */
async function withMultiBox(
  fn: (h: Harness, objects: AnyResource[]) => Promise<void>,
  options: { all?: boolean } = {},
): Promise<void> {
  const h = await newHarness({ defaultPool: true });
  const dir = await Deno.makeTempDir({ prefix: "lv-multi-" });
  try {
    const source = await makeMultiDiskBox(dir);
    const all = basicExample();
    (all["Box/tiny"] as Box).spec.source = source;
    (all["Domain/web"] as Domain).spec.communicator = "none";
    const objects = options.all ? Object.values(all) : [all["Box/tiny"]];
    await createAll(h, objects);
    await fn(h, objects);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const BOX: [Kind, string][] = [["Box", "tiny"]];

Deno.test("boxReconciler uploads each disk of a 2-disk box as its own volume; a second pass changes nothing", async () => {
  await withMultiBox(async (h) => {
    await converge(h, BOX);
    assert.deepEqual(h.fake.mutations().map((c) => c.slice(0, 4).join(" ")), [
      "vol-create --pool default /dev/stdin",
      "vol-upload --pool default box-tiny",
      "vol-create --pool default /dev/stdin",
      "vol-upload --pool default box-tiny-2",
    ]);
    assert.equal(h.fake.volume("default", "box-tiny")!.capacity, MiB);
    assert.equal(h.fake.volume("default", "box-tiny-2")!.capacity, 2 * MiB);
    assert.match(h.fake.volume("default", "box-tiny-2")!.uploads[0], /disk2\.qcow2$/);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    // Disk 1 where it always was, every disk in status.disks.
    assert.deepEqual(
      [box.status.volume, box.status.path, box.status.format, box.status.virtualSize],
      ["box-tiny", "/var/lib/libvirt/images/box-tiny", "qcow2", MiB],
    );
    assert.deepEqual(box.status.disks, [
      { volume: "box-tiny", path: "/var/lib/libvirt/images/box-tiny", format: "qcow2", virtualSize: MiB },
      {
        volume: "box-tiny-2",
        path: "/var/lib/libvirt/images/box-tiny-2",
        format: "qcow2",
        virtualSize: 2 * MiB,
      },
    ]);
    assert.equal(box.status.pendingVolume, undefined);

    const mark = h.fake.mark();
    const head = await h.store.head();
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head);
  });
});

Deno.test("boxReconciler: an upload cut during disk 2 resumes with disk 2 only; disk 1 is not uploaded again", async () => {
  await withMultiBox(async (h) => {
    h.fake.beforeCall = (args) => {
      if (args[0] === "vol-upload" && args.includes("box-tiny-2")) {
        h.fake.beforeCall = undefined;
        h.fake.failNext("vol-upload", "Cannot recv data: Connection reset by peer");
      }
    };
    assert.ok((await pass(h, "Box", "tiny")).error);
    let box = await mustGet<Box>(h, "Box", "tiny");
    assert.notEqual(ready(box)?.status, "True");
    assert.equal(box.status.volume, undefined, "not complete, so not recorded as the box's volume yet");
    assert.deepEqual(box.status.disks?.map((d) => d.volume), ["box-tiny"]);
    assert.equal(box.status.pendingVolume, "box-tiny-2");

    const mark = h.fake.mark();
    await converge(h, BOX);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c.slice(0, 4).join(" ")), [
      "vol-delete --pool default box-tiny-2",
      "vol-create --pool default /dev/stdin",
      "vol-upload --pool default box-tiny-2",
    ]);
    assert.equal(h.fake.volume("default", "box-tiny")!.uploads.length, 1);
    box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    assert.deepEqual(box.status.disks?.map((d) => d.volume), ["box-tiny", "box-tiny-2"]);
  });
});

Deno.test("boxReconciler: deleting a 2-disk Box deletes both volumes, also after a crash mid-upload", async (t) => {
  await t.step("uploaded", async () => {
    await withMultiBox(async (h) => {
      await converge(h, BOX);
      await h.store.delete(key("Box", "tiny"));
      const mark = h.fake.mark();
      await passOk(h, "Box", "tiny");
      assert.deepEqual(h.fake.mutations(mark).map((c) => c.join(" ")), [
        "vol-delete --pool default box-tiny",
        "vol-delete --pool default box-tiny-2",
      ]);
      assert.equal(await h.store.get(key("Box", "tiny")), undefined);
    });
  });
  await t.step("disk 2 created, never filled", async () => {
    await withMultiBox(async (h) => {
      h.fake.beforeCall = (args) => {
        if (args[0] === "vol-upload" && args.includes("box-tiny-2")) {
          h.fake.beforeCall = undefined;
          h.fake.failNext("vol-upload", "End of file while reading data: Input/output error");
        }
      };
      assert.ok((await pass(h, "Box", "tiny")).error);
      await h.store.delete(key("Box", "tiny"));
      await passOk(h, "Box", "tiny");
      assert.deepEqual([...h.fake.pools.get("default")!.volumes.keys()], []);
      assert.equal(await h.store.get(key("Box", "tiny")), undefined);
    });
  });
});

Deno.test("boxReconciler: a Box recorded before multi-disk support (no status.disks) stays Ready without an upload", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, [example<Box>("Box", "tiny")]);
    await converge(h, BOX);
    // What an older lv wrote: disk 1's fields only.
    const box = await mustGet<Box>(h, "Box", "tiny");
    const old = structuredClone(box);
    delete old.status.disks;
    await h.store.updateStatus(old);
    const mark = h.fake.mark();
    await passOk(h, "Box", "tiny");
    assert.deepEqual(h.fake.mutations(mark), []);
    const now = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(now)?.status, "True");
    assert.deepEqual(now.status.disks?.map((d) => d.volume), ["box-tiny"]);
  } finally {
    await h.close();
  }
});

Deno.test("volumeReconciler: backingBoxDisk picks the disk of the box the overlay is on", async (t) => {
  for (const [n, backing, capacity] of [[undefined, "box-tiny", MiB], [2, "box-tiny-2", 2 * MiB]] as const) {
    await t.step(`backingBoxDisk ${n ?? "(default)"}`, async () => {
      await withMultiBox(async (h) => {
        await h.store.create(example<Volume>("Volume", "web-data", (v) => {
          v.spec.backingBox = "tiny";
          if (n) v.spec.backingBoxDisk = n;
          delete v.spec.size;
        }));
        await converge(h, [["Box", "tiny"], ["Volume", "web-data"]]);
        const vol = h.fake.volume("default", "web-data")!;
        assert.equal(vol.backingStore?.path, `/var/lib/libvirt/images/${backing}`);
        assert.equal(vol.capacity, capacity);
      });
    });
  }
  await t.step("a disk the box does not have: NoSuchBoxDisk, terminal, no volume", async () => {
    await withMultiBox(async (h) => {
      await h.store.create(example<Volume>("Volume", "web-data", (v) => {
        v.spec.backingBox = "tiny";
        v.spec.backingBoxDisk = 3;
      }));
      await converge(h, BOX);
      const r = await pass(h, "Volume", "web-data");
      assert.ok(r.error instanceof TerminalError);
      assert.equal(r.error.reason, "NoSuchBoxDisk");
      assert.match(r.error.message, /box\/tiny has 2 disks; backingBoxDisk 3 does not exist/);
      assert.equal(h.fake.volume("default", "web-data"), undefined);
    });
  });
});

const ALL: [Kind, string][] = [
  ["Box", "tiny"],
  ["Network", "basic-net"],
  ["Volume", "web-data"],
  ["Domain", "web"],
  ["Volume", "web"],
  ["Volume", "web-disk2"],
];

Deno.test("domainReconciler: box: with a 2-disk box makes an owned overlay per disk, after the domain's own disks", async () => {
  await withMultiBox(async (h) => {
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
    const second = await mustGet<Volume>(h, "Volume", "web-disk2");
    assert.deepEqual(second.metadata.ownerReferences, [
      { kind: "Domain", name: "web", uid: dom.metadata.uid, controller: true },
    ]);
    assert.equal(second.spec.backingBox, "tiny");
    assert.equal(second.spec.backingBoxDisk, 2);
    assert.equal(second.spec.size, undefined);
    assert.equal(
      h.fake.volume("default", "web-disk2")!.backingStore?.path,
      "/var/lib/libvirt/images/box-tiny-2",
    );
    // vda: the box's first disk; vdb: the domain's own web-data (named by validation); vdc: box disk 2.
    const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.deepEqual(xml.disks.map((d) => [d.device, d.path]), [
      ["vda", "/var/lib/libvirt/images/web"],
      ["vdb", "/var/lib/libvirt/images/web-data"],
      ["vdc", "/var/lib/libvirt/images/web-disk2"],
    ]);

    const mark = h.fake.mark();
    const head = await h.store.head();
    for (const [kind, name] of ALL) await passOk(h, kind, name);
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head);
  }, { all: true });
});

Deno.test("domainReconciler: deleting the Domain, then the Box, leaves no volume of the box behind", async () => {
  await withMultiBox(async (h) => {
    await runManagerUntil(h, () => allReady(h), { timeoutMs: 10_000 });
    assert.ok(await h.store.get(key("Volume", "web-disk2")));
    await h.store.delete(key("Domain", "web"));
    await runManagerUntil(
      h,
      async () =>
        !(await h.store.get(key("Domain", "web"))) && !(await h.store.get(key("Volume", "web-disk2"))),
      { timeoutMs: 10_000 },
    );
    assert.deepEqual([...h.fake.pools.get("default")!.volumes.keys()].sort(), [
      "box-tiny",
      "box-tiny-2",
      "web-data",
    ]);
    await h.store.delete(key("Box", "tiny"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Box", "tiny"))), { timeoutMs: 10_000 });
    assert.deepEqual([...h.fake.pools.get("default")!.volumes.keys()], ["web-data"]);
  }, { all: true });
});

Deno.test("validation: backingBoxDisk needs backingBox and is 1 or more", () => {
  const doc = (spec: string) =>
    `apiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata:\n  name: data\nspec:\n${spec}`;
  const messages = (spec: string) =>
    parseManifests(doc(spec), "v.yaml").problems.map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(messages("  backingBox: multi\n  backingBoxDisk: 2\n"), []);
  assert.deepEqual(messages("  size: 1Gi\n  backingBoxDisk: 2\n"), [
    "spec.backingBoxDisk: needs backingBox (it picks a disk of the backing box)",
  ]);
  assert.match(messages("  backingBox: multi\n  backingBoxDisk: 0\n").join("\n"), /between 1 and 26/);
});
