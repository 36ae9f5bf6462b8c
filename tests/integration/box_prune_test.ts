/**
 * lv box list and lv box prune against the lab's libvirtd (real vol-list and vol-dumpxml output): a Box a
 * Domain uses is listed with its users and kept; an unused Box and an orphaned box volume are pruned; a
 * volume libvirt backs by an orphan keeps it. Through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Lv, requireLab, ROOT, virsh, virshNames } from "./helpers.ts";

function manifest(dir: string): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: used
spec:
  source: ${join(dir, "tiny.img")}
---
apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: spare
spec:
  source: ${join(dir, "tiny.img")}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: pruner
spec:
  box: used
  driver: qemu
  communicator: none
  memory: 128
`;
}

Deno.test("lv box list and prune on a real libvirtd: unused boxes and orphans go, what is used stays", async (t) => {
  requireLab();
  const lv = new Lv();
  const dir = await Deno.makeTempDir({ prefix: "lv-prune-" });
  await Deno.copyFile(`${ROOT}examples/tiny.img`, join(dir, "tiny.img"));
  const file = join(dir, "prune.yaml");
  await Deno.writeTextFile(file, manifest(dir));
  const before = await virshNames("volumes");
  try {
    await lv.ok(["apply", "-f", file, "--timeout=120s"]);
    // An orphan (no Box), and one that a volume lv does not know is backed by.
    await virsh("vol-create-as", "default", "box-orphan", "1M", "--format", "raw");
    await virsh("vol-create-as", "default", "box-backing", "1M", "--format", "raw");
    const backing = (await virsh("vol-path", "--pool", "default", "box-backing")).trim();
    await virsh(
      "vol-create-as",
      "default",
      "prune-legacy.qcow2",
      "1M",
      "--format",
      "qcow2",
      "--backing-vol",
      backing,
      "--backing-vol-format",
      "raw",
    );
    await t.step("list shows both boxes with their users, and both orphans", async () => {
      const r = await lv.ok(["box", "list"]);
      const rows = r.stdout.trimEnd().split("\n").map((l) => l.split(/\s{3,}/));
      assert.deepEqual(rows[0], ["BOX", "POOL", "VOLUME", "DISK", "FORMAT", "SIZE", "USED-BY", "SOURCE"]);
      // SOURCE (where a Box came from) is checked by box_catalog_test; here the columns before it.
      const shown = rows.slice(1).map((r) => r.slice(0, r[0] === "<none>" ? 6 : 7));
      assert.deepEqual(shown.filter((r) => r[0] !== "<none>" || /orphan|backing/.test(r[2])), [
        ["spare", "default", "box-spare", "1", "raw", "1Mi", "<none>"],
        ["used", "default", "box-used", "1", "raw", "1Mi", "volume/pruner"],
        ["<none>", "default", "box-backing", "raw", "1Mi", "prune-legacy.qcow2 (libvirt)"],
        ["<none>", "default", "box-orphan", "raw", "1Mi", "<none>"],
      ]);
      assert.equal(r.stderr, "");
    });

    await t.step("prune --dry-run removes nothing", async () => {
      const vols = await virshNames("volumes");
      const r = await lv.ok(["box", "prune", "--dry-run"]);
      assert.match(r.stdout, /volume box-orphan deleted from pool default: no Box owns it \(dry run\)/);
      assert.match(r.stdout, /box\/spare deleted \(volumes box-spare in pool default\) \(dry run\)/);
      assert.deepEqual(await virshNames("volumes"), vols);
    });

    await t.step("prune removes the unused box and the unused orphan, keeps the rest", async () => {
      const r = await lv.ok(["box", "prune", "--timeout=60s"]);
      assert.match(
        r.stdout,
        /^volume box-orphan deleted from pool default: no Box owns it\nbox\/spare deleted\n/,
      );
      assert.match(r.stdout, /Pruned 1 box and 1 orphaned volume/);
      const vols = (await virshNames("volumes")).filter((v) => !before.includes(v));
      assert.deepEqual(vols, ["box-backing", "box-used", "prune-legacy.qcow2", "pruner"]);
      assert.equal((await lv.run(["get", "box", "spare"])).code, 1, "box/spare is gone from the store");
    });
  } finally {
    await lv.run(["delete", "-f", file, "--timeout=60s"]);
    for (const v of ["prune-legacy.qcow2", "box-backing", "box-orphan"]) {
      await virsh("vol-delete", "--pool", "default", v).catch(() => {});
    }
    assert.deepEqual(await virshNames("volumes"), before);
    lv.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
