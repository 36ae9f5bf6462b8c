/**
 * lv box add / outdated / update against the fake libvirt and a catalog on 127.0.0.1: a box fetched ahead
 * is not downloaded again, outdated lists a Box once its catalog gains a matching version, update moves
 * new overlays to it while the old base volume stays for the overlay made before, until prune after.
 */
import assert from "node:assert/strict";
import type { Box, Volume } from "../../src/api/types.ts";
import { boxPrune } from "../../src/cli/box.ts";
import { boxCommand } from "../../src/cli/box_command.ts";
import { startUpdate } from "../../src/cli/box_versions.ts";
import { CommandFailed, UsageError } from "../../src/cli/errors.ts";
import type { WaitingError } from "../../src/controller/context.ts";
import { converge, example, key, mustGet, pass, ready } from "./harness.ts";
import { type CliHarness, newCliHarness } from "./cli_harness.ts";
import { TINY_BYTES, TINY_SHA256 } from "./box_files.ts";

const [IMAGE, DIGEST] = [TINY_BYTES, TINY_SHA256];

interface World {
  h: CliHarness;
  out: string[];
  err: string[];
  /** Paths the catalog server was asked for. */
  seen: string[];
  /** Versions the catalog lists (change it to publish one). */
  versions: string[];
}

async function withCatalog(fn: (w: World) => Promise<void>): Promise<void> {
  const w = { out: [], err: [], seen: [], versions: ["1.0.0", "2.0.0"] } as unknown as World;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    w.seen.push(path);
    if (path === "/lv-test/tiny") {
      return Response.json({
        versions: w.versions.map((version) => ({
          version,
          providers: [{
            name: "libvirt",
            url: `${base}/boxes/${version}.img`,
            checksum_type: "sha256",
            checksum: DIGEST,
          }],
        })),
      });
    }
    if (path.startsWith("/boxes/")) return new Response(IMAGE);
    return new Response("not found", { status: 404 });
  });
  const base: string = `http://127.0.0.1:${server.addr.port}`;
  w.h = await newCliHarness({ defaultPool: true });
  w.h.rt.boxServerUrl = base;
  w.h.ctx.boxServerUrl = base;
  w.h.rt.output = { out: (t) => w.out.push(t), err: (t) => w.err.push(t) };
  const vagrantHome = Deno.env.get("VAGRANT_HOME");
  Deno.env.set("VAGRANT_HOME", w.h.home); // no Vagrant boxes
  try {
    await fn(w);
  } finally {
    if (vagrantHome === undefined) Deno.env.delete("VAGRANT_HOME");
    else Deno.env.set("VAGRANT_HOME", vagrantHome);
    await w.h.close();
    await server.shutdown();
  }
}

/** Box tiny (~> 1.0, so 1.0.0) and the Volume web-data made on it, converged. */
async function boxWithOverlay(h: CliHarness): Promise<void> {
  await h.store.create(tinyBox("~> 1.0"));
  await h.store.create(example<Volume>("Volume", "web-data", (v) => {
    v.spec.backingBox = "tiny";
    delete v.spec.size;
  }));
  await converge(h, [["Box", "tiny"], ["Volume", "web-data"]]);
}

const tinyBox = (version?: string) =>
  example<Box>("Box", "tiny", (b) => {
    b.spec.source = "lv-test/tiny";
    if (version) b.spec.version = version;
  });

Deno.test("lv box add fetches a catalog box into the cache; a Box on it downloads nothing again", async () => {
  await withCatalog(async ({ h, out, seen }) => {
    await boxCommand(h.rt, "add", { args: ["lv-test/tiny"], version: "~> 1.0" });
    assert.match(
      out.join(""),
      /^lv-test\/tiny 1\.0\.0 is in lv's cache \(1 disk, raw, sha256 [0-9a-f]{64}\)\n$/,
    );
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.0.0.img"]);
    await h.store.create(tinyBox("~> 1.0"));
    await converge(h, [["Box", "tiny"]]);
    assert.equal(ready(await mustGet<Box>(h, "Box", "tiny"))?.status, "True");
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.0.0.img", "/lv-test/tiny"], "no second download");
  });
});

Deno.test("lv box add refuses what it cannot add (usage errors) and names a catalog fault", async () => {
  await withCatalog(async ({ h }) => {
    await assert.rejects(boxCommand(h.rt, "add", {}), UsageError);
    await assert.rejects(boxCommand(h.rt, "add", { args: ["./local.box"] }), UsageError);
    await assert.rejects(boxCommand(h.rt, "add", { args: ["lv-test/tiny"], version: ">= x" }), UsageError);
    await assert.rejects(boxCommand(h.rt, "outdated", { version: "1" }), UsageError);
    await assert.rejects(
      boxCommand(h.rt, "add", { args: ["lv-test/tiny"], version: ">= 3" }),
      (e: Error) =>
        e instanceof CommandFailed &&
        /^NoMatchingVersion: .*\/lv-test\/tiny: no version matching/.test(e.message),
    );
  });
});

Deno.test("lv box outdated lists a Box once its catalog gains a version its constraint matches", async () => {
  await withCatalog(async (w) => {
    await w.h.store.create(tinyBox("~> 1.0"));
    await converge(w.h, [["Box", "tiny"]]);
    await boxCommand(w.h.rt, "outdated", {});
    assert.deepEqual(w.out, []);
    assert.deepEqual(w.err, ["Every box is on the newest version it allows.\n"]);
    w.err.length = 0;
    w.versions.push("1.1.0");
    await boxCommand(w.h.rt, "outdated", {});
    assert.equal(
      w.out.join(""),
      [
        "BOX    SOURCE         CONSTRAINT   CURRENT   NEWEST",
        "tiny   lv-test/tiny   ~> 1.0       1.0.0     1.1.0",
        "",
      ].join("\n"),
    );
  });
});

Deno.test("lv box update: new overlays get the new base, the old one stays while used, prune removes it after", async () => {
  await withCatalog(async (w) => {
    const { h } = w;
    await boxWithOverlay(h);
    const oldPath = (await mustGet<Box>(h, "Box", "tiny")).status.path!;

    await boxCommand(h.rt, "update", { args: ["tiny"], timeoutMs: 20_000 });
    assert.match(w.out.join(""), /^box\/tiny is on the newest version "~> 1\.0" allows \(1\.0\.0\)\n$/);
    w.out.length = 0;

    w.versions.push("1.1.0");
    await boxCommand(h.rt, "update", { args: ["tiny"], timeoutMs: 20_000 });
    assert.match(
      w.out.join(""),
      /^box\/tiny updated from 1\.0\.0 to 1\.1\.0; box-tiny kept while volumes use them/,
    );
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    assert.equal(box.status.version?.version, "1.1.0");
    assert.equal(box.status.volume, "box-tiny-v1.1.0");
    assert.ok(h.fake.volume("default", "box-tiny"), "the old base volume is kept");
    assert.equal(
      h.fake.volume("default", "web-data")!.backingStore?.path,
      oldPath,
      "the overlay made before keeps it",
    );

    // A new overlay is made on the new base.
    await h.store.create(example<Volume>("Volume", "web-data", (v) => {
      v.metadata.name = "new-data";
      v.spec.backingBox = "tiny";
      delete v.spec.size;
    }));
    await converge(h, [["Volume", "new-data"]]);
    assert.equal(h.fake.volume("default", "new-data")!.backingStore?.path, box.status.path);

    // Prune keeps the old base while web-data uses it, removes it once nothing does.
    await boxPrune(h.rt, { timeoutMs: 10_000 });
    assert.ok(h.fake.volume("default", "box-tiny"));
    await h.store.delete(key("Volume", "web-data"));
    await converge(h, [["Volume", "web-data"]]);
    await boxPrune(h.rt, { timeoutMs: 10_000 });
    assert.equal(h.fake.volume("default", "box-tiny"), undefined);
    assert.ok(h.fake.volume("default", "box-tiny-v1.1.0"));
  });
});

Deno.test("while a Box is being updated, a Volume made on its old base stays Ready (no WaitingForBox)", async () => {
  await withCatalog(async (w) => {
    const { h } = w;
    await boxWithOverlay(h);
    await startUpdate(h.store, await mustGet<Box>(h, "Box", "tiny"), {
      version: "1.1.0",
      url: "http://127.0.0.1:9/never.img",
      catalog: "http://127.0.0.1:9/lv-test/tiny",
    });
    const r = await pass(h, "Volume", "web-data");
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(ready(await mustGet<Volume>(h, "Volume", "web-data"))?.status, "True");
    // A Volume still to be made waits for the new base.
    await h.store.create(example<Volume>("Volume", "web-data", (v) => {
      v.metadata.name = "later";
      v.spec.backingBox = "tiny";
      delete v.spec.size;
    }));
    const later = await pass(h, "Volume", "later");
    assert.equal((later.error as WaitingError | undefined)?.reason, "WaitingForBox");
  });
});
