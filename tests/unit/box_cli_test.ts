/**
 * lv box list / lv box prune against the fake libvirt: every Box's base volumes with what uses them, the
 * orphans (box-* volumes no Box owns), and a prune that removes only what nothing uses.
 */
import assert from "node:assert/strict";
import type { Box, Domain, Kind, Volume } from "../../src/api/types.ts";
import { boxCommand, boxList, boxPrune } from "../../src/cli/box.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { makeMultiDiskBox } from "./box_files.ts";
import { type CliHarness, newCliHarness } from "./cli_harness.ts";
import { converge, example, key } from "./harness.ts";

interface Captured {
  out: string[];
  err: string[];
}

/**
 * The world the tests look at, in pool "default":
 *   box-tiny       Box tiny (tiny.img), backing the Volume web-data
 *   box-multi(-2)  Box multi, a 2-disk .box, used by nothing
 *   box-old        no Box: an orphan, used by nothing
 *   box-kept       no Box, but libvirt's legacy.img (not lv's) is an overlay on it
 */
async function withWorld(fn: (h: CliHarness, c: Captured) => Promise<void>): Promise<void> {
  const h = await newCliHarness({ defaultPool: true });
  const dir = await Deno.makeTempDir({ prefix: "lv-boxcli-" });
  const c: Captured = { out: [], err: [] };
  h.rt.output = { out: (t) => c.out.push(t), err: (t) => c.err.push(t) };
  try {
    await h.store.create(example<Box>("Box", "tiny"));
    await h.store.create(example<Box>("Box", "tiny", (b) => {
      b.metadata.name = "multi";
      b.spec.source = "";
    }));
    const multi = await makeMultiDiskBox(dir);
    const stored = await h.store.get(key("Box", "multi")) as Box;
    stored.spec.source = multi;
    await h.store.update(stored);
    await h.store.create(example<Volume>("Volume", "web-data", (v) => {
      v.spec.backingBox = "tiny";
      delete v.spec.size;
    }));
    const objects: [Kind, string][] = [["Box", "tiny"], ["Box", "multi"], ["Volume", "web-data"]];
    await converge(h, objects);
    const vol = (name: string, backing?: string) =>
      `<volume><name>${name}</name><capacity>4096</capacity><allocation>4096</allocation>` +
      `<target><format type='${backing ? "qcow2" : "raw"}'/></target>` +
      (backing ? `<backingStore><path>${backing}</path><format type='raw'/></backingStore>` : "") +
      `</volume>`;
    h.fake.seed(["vol-create", "--pool", "default", "/dev/stdin"], vol("box-old"));
    h.fake.seed(["vol-create", "--pool", "default", "/dev/stdin"], vol("box-kept"));
    h.fake.seed(
      ["vol-create", "--pool", "default", "/dev/stdin"],
      vol("legacy.img", "/var/lib/libvirt/images/box-kept"),
    );
    await fn(h, c);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function poolVolumes(h: CliHarness): string[] {
  return [...h.fake.pools.get("default")!.volumes.keys()].sort();
}

Deno.test("boxList() shows each Box's volumes per pool with size, format and users, then the orphans", async () => {
  await withWorld(async (h, c) => {
    const mark = h.fake.mark();
    await boxList(h.rt);
    assert.equal(
      c.out.join(""),
      [
        "BOX      POOL      VOLUME        DISK   FORMAT   SIZE   USED-BY",
        "multi    default   box-multi     1      qcow2    1Mi    <none>",
        "multi    default   box-multi-2   2      qcow2    2Mi    <none>",
        "tiny     default   box-tiny      1      raw      1Mi    volume/web-data",
        "<none>   default   box-kept             raw      4Ki    legacy.img (libvirt)",
        "<none>   default   box-old              raw      4Ki    <none>",
        "",
      ].join("\n"),
    );
    assert.deepEqual(c.err, []);
    assert.deepEqual(h.fake.mutations(mark), [], "listing changes nothing");
  });
});

Deno.test("boxList() -o json and -o wide", async () => {
  await withWorld(async (h, c) => {
    await boxList(h.rt, { output: "json" });
    const items = JSON.parse(c.out.join("")).items;
    assert.deepEqual(items.map((i: { volume: string; orphan: boolean }) => [i.volume, i.orphan]), [
      ["box-multi", false],
      ["box-multi-2", false],
      ["box-tiny", false],
      ["box-kept", true],
      ["box-old", true],
    ]);
    c.out.length = 0;
    await boxList(h.rt, { output: "wide" });
    const lines = c.out.join("").split("\n");
    assert.match(lines[0], /SIZE +ALLOCATION +PATH +USED-BY$/);
    assert.match(lines[3], /\/var\/lib\/libvirt\/images\/box-tiny +volume\/web-data$/);
  });
});

Deno.test("boxPrune({ dryRun }) says what it would remove and changes nothing", async () => {
  await withWorld(async (h, c) => {
    const head = await h.store.head();
    const mark = h.fake.mark();
    await boxPrune(h.rt, { dryRun: true });
    const lines = c.out.join("").split("\n");
    assert.deepEqual(lines.slice(0, 2), [
      "volume box-old deleted from pool default: no Box owns it (dry run)",
      "box/multi deleted (volumes box-multi, box-multi-2 in pool default) (dry run)",
    ]);
    assert.match(lines[2], /^Would prune 1 box and 1 orphaned volume, [\d.]+ KiB on disk \(dry run\)$/);
    assert.equal(lines.length, 4);
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head);
  });
});

Deno.test("boxPrune() removes unused Boxes with their volumes and orphans nothing uses; keeps the rest", async () => {
  await withWorld(async (h, c) => {
    await boxPrune(h.rt, { timeoutMs: 10_000 });
    const lines = c.out.join("").split("\n");
    assert.deepEqual(lines.slice(0, 2), [
      "volume box-old deleted from pool default: no Box owns it",
      "box/multi deleted",
    ]);
    assert.match(lines[2], /^Pruned 1 box and 1 orphaned volume, [\d.]+ KiB on disk$/);
    assert.deepEqual(poolVolumes(h), ["box-kept", "box-tiny", "legacy.img", "web-data"]);
    assert.equal(await h.store.get(key("Box", "multi")), undefined);
    assert.ok(await h.store.get(key("Box", "tiny")));

    c.out.length = 0;
    const mark = h.fake.mark();
    await boxPrune(h.rt);
    assert.equal(c.out.join(""), "Nothing to prune.\n");
    assert.deepEqual(h.fake.mutations(mark), []);
  });
});

Deno.test("boxPrune() keeps a Box a Domain's box: shortcut is about to use (no overlay Volume yet)", async () => {
  await withWorld(async (h, c) => {
    await h.store.create(example<Domain>("Domain", "web", (d) => d.spec.box = "multi"));
    await boxList(h.rt);
    assert.match(c.out.join(""), /multi +default +box-multi +1 +qcow2 +1Mi +domain\/web\n/);
    c.out.length = 0;
    await boxPrune(h.rt, { dryRun: true });
    assert.doesNotMatch(c.out.join(""), /box\/multi/);
  });
});

Deno.test("boxPrune() never deletes a same-named volume lv did not make for a Box (NameConflict)", async () => {
  await withWorld(async (h, c) => {
    // Box "clash" was never uploaded: a foreign volume has its name.
    h.fake.seed(
      ["vol-create", "--pool", "default", "/dev/stdin"],
      "<volume><name>box-clash</name><capacity>4096</capacity></volume>",
    );
    await h.store.create(example<Box>("Box", "tiny", (b) => b.metadata.name = "clash"));
    await boxList(h.rt);
    const table = c.out.join("");
    assert.match(table, /\nclash +default +<none> +<none>\n/);
    assert.match(table, /\n<none> +default +box-clash +raw +4Ki +<none>\n/);
    c.out.length = 0;
    await boxPrune(h.rt, { timeoutMs: 10_000 });
    assert.match(c.out.join(""), /box\/clash deleted/);
    assert.doesNotMatch(c.out.join(""), /volume box-clash deleted/);
    assert.ok(h.fake.volume("default", "box-clash"), "the foreign volume stays");
  });
});

Deno.test("boxPrune() keeps every Box of a pool it cannot read (what its volumes back is unknown)", async () => {
  await withWorld(async (h, c) => {
    h.fake.failNext("vol-list", "Cannot recv data: Connection reset by peer", { times: 5 });
    const head = await h.store.head();
    await boxPrune(h.rt, { timeoutMs: 5000 });
    assert.match(c.err.join(""), /cannot list pool "default": .*Connection reset by peer.*\(skipped\)/);
    assert.equal(c.out.join(""), "Nothing to prune.\n");
    assert.equal(await h.store.head(), head);
  });
});

Deno.test("boxCommand() runs list and prune, and refuses what they do not take (usage errors)", async (t) => {
  await withWorld(async (h, c) => {
    await t.step("list -o wide", async () => {
      await boxCommand(h.rt, "list", { output: "wide" });
      assert.match(c.out.join(""), /^BOX +POOL +VOLUME +DISK +FORMAT +SIZE +ALLOCATION +PATH +USED-BY\n/);
    });
    await t.step("prune --dry-run", async () => {
      c.out.length = 0;
      await boxCommand(h.rt, "prune", { dryRun: true });
      assert.match(c.out.join(""), /Would prune 1 box and 1 orphaned volume/);
    });
    const bad: [string | undefined, Parameters<typeof boxCommand>[2], RegExp][] = [
      [undefined, {}, /needs a subcommand/],
      ["rm", {}, /unknown box subcommand "rm"/],
      ["list", { output: "yaml" }, /-o yaml is not an output format of lv box list/],
      ["list", { dryRun: true }, /--dry-run is a flag of lv box prune/],
      ["prune", { output: "json" }, /-o is a flag of lv box list/],
    ];
    for (const [sub, options, message] of bad) {
      await t.step(`${sub ?? "(none)"} ${JSON.stringify(options)}`, async () => {
        await assert.rejects(
          boxCommand(h.rt, sub, options),
          (e: Error) => e instanceof UsageError && message.test(e.message),
        );
      });
    }
  });
});
