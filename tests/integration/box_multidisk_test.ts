/**
 * A Vagrant libvirt box with two disks (metadata.json disks[], built here with qemu-img and tar) against
 * the lab's libvirtd through the real CLI: both disks uploaded as their own base volumes, the Domain's
 * box: shortcut gives it an overlay per disk, a second apply changes nothing, delete leaves the pool as it
 * was. And vol-upload's progress, read from /proc while a real virsh uploads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import { ProcessVirsh } from "../../src/libvirt/virsh.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { parseVolumeXml } from "../../src/libvirt/xml/volume_xml.ts";
import { Lv, mutating, requireLab, ROOT, run, virsh, virshNames } from "./helpers.ts";

const MiB = 1 << 20;

async function must(cmd: string, args: string[], cwd?: string): Promise<void> {
  const r = await run(cmd, args, { cwd });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

/** multi.box: disk1.qcow2 (tiny.img, 1 MiB) and disk2.qcow2 (blank, 2 MiB), metadata v2. */
async function buildBox(dir: string): Promise<string> {
  await must("qemu-img", ["convert", "-O", "qcow2", `${ROOT}examples/tiny.img`, join(dir, "disk1.qcow2")]);
  await must("qemu-img", ["create", "-q", "-f", "qcow2", join(dir, "disk2.qcow2"), "2M"]);
  await Deno.writeTextFile(
    join(dir, "metadata.json"),
    JSON.stringify({
      provider: "libvirt",
      format: "qcow2",
      disks: [{ path: "disk1.qcow2", format: "qcow2" }, { path: "disk2.qcow2", format: "qcow2" }],
    }),
  );
  await must("tar", ["-czf", "multi.box", "metadata.json", "disk1.qcow2", "disk2.qcow2"], dir);
  return join(dir, "multi.box");
}

function manifest(box: string): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: multi
spec:
  source: ${box}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: md
spec:
  box: multi
  driver: qemu
  communicator: none
  memory: 128
`;
}

Deno.test("a 2-disk Vagrant box: a base volume and an overlay per disk; delete leaves the pool as it was", async (t) => {
  requireLab();
  const lv = new Lv();
  const dir = await Deno.makeTempDir({ prefix: "lv-multidisk-" });
  const file = join(dir, "multi.yaml");
  await Deno.writeTextFile(file, manifest(await buildBox(dir)));
  const before = await virshNames("volumes");
  try {
    await t.step("apply uploads both disks and defines the domain with both overlays", async () => {
      lv.virshCalls();
      const r = await lv.ok(["apply", "-f", file, "--timeout=120s"]);
      // Local libvirt, volume files lv may write: copied by lv (volume_copy.ts), byte for byte, no stream.
      const calls = lv.virshCalls();
      assert.ok(
        calls.some((c) => c[0] === "vol-path") && !calls.some((c) => c[0] === "vol-upload"),
        `${calls}`,
      );
      for (const [volume, disk] of [["box-multi", "disk1.qcow2"], ["box-multi-2", "disk2.qcow2"]]) {
        const back = join(dir, `${volume}.back`);
        await virsh("vol-download", "--pool", "default", volume, back);
        assert.deepEqual(await Deno.readFile(back), await Deno.readFile(join(dir, disk)), volume);
      }
      assert.equal(r.stdout, "box/multi created\ndomain/md created\n");
      // Not a terminal: a progress line as each upload starts and ends.
      for (const v of ["box-multi", "box-multi-2"]) {
        assert.match(r.stderr, new RegExp(`box/multi: uploading ${v}: 0 B of [\\d.]+ KiB \\(0%\\)\n`));
        assert.match(r.stderr, new RegExp(`box/multi: uploaded ${v}: [\\d.]+ KiB in \\d+s`));
      }
      assert.deepEqual(
        (await virshNames("volumes")).filter((v) => !before.includes(v)),
        ["box-multi", "box-multi-2", "md", "md-disk2"],
      );
      const base2 = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "box-multi-2"));
      assert.equal(base2.capacity, 2 * MiB);
      const overlay1 = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "md"));
      const overlay2 = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "md-disk2"));
      assert.match(overlay1.backingStore?.path ?? "", /\/box-multi$/);
      assert.equal(overlay2.backingStore?.path, base2.path);
      const dom = parseDomainXml(await virsh("dumpxml", "md"));
      assert.deepEqual(dom.disks.map((d) => [d.device, d.path]), [
        ["vda", overlay1.path],
        ["vdb", overlay2.path],
      ]);
      const box = JSON.parse((await lv.ok(["get", "box", "multi", "-o", "json"])).stdout);
      assert.deepEqual(
        box.status.disks.map((d: { volume: string; virtualSize: number }) => [d.volume, d.virtualSize]),
        [["box-multi", MiB], ["box-multi-2", 2 * MiB]],
      );
    });

    await t.step("a second apply reports unchanged and runs only read-only virsh commands", async () => {
      lv.virshCalls();
      const r = await lv.ok(["apply", "-f", file, "--timeout=60s"]);
      assert.equal(r.stdout, "box/multi unchanged\ndomain/md unchanged\n");
      assert.deepEqual(mutating(lv.virshCalls()), []);
    });

    await t.step("vol-upload's progress is read while the real virsh runs (stream: true)", async () => {
      // 96 MiB of random bytes: long enough to be seen midway at a 5 ms poll.
      const image = join(dir, "random.img");
      await must("dd", ["if=/dev/urandom", `of=${image}`, "bs=1M", "count=96", "status=none"]);
      const libvirt = new Libvirt(new ProcessVirsh("qemu:///system"));
      await virsh("vol-create-as", "default", "lv-progress-probe", "96M", "--format", "raw");
      const reports: [number, number][] = [];
      try {
        await libvirt.volUpload("default", "lv-progress-probe", image, {
          stream: true,
          pollMs: 5,
          onProgress: (done, total) => reports.push([done, total]),
        });
      } finally {
        await virsh("vol-delete", "--pool", "default", "lv-progress-probe");
      }
      const total = 96 * MiB;
      assert.deepEqual(reports[0], [0, total]);
      assert.deepEqual(reports.at(-1), [total, total]);
      const midway = reports.filter(([done]) => done > 0 && done < total);
      assert.ok(midway.length > 0, `no report between the first and the last: ${JSON.stringify(reports)}`);
      const dones = reports.map(([done]) => done);
      assert.deepEqual(dones, [...dones].sort((a, b) => a - b), "never goes back");
    });

    await t.step("delete removes the domain, both overlays and both base volumes", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=60s"]);
      assert.deepEqual(await virshNames("volumes"), before);
      assert.deepEqual((await virshNames("domains")).filter((d) => d === "md"), []);
    });
  } finally {
    await lv.run(["delete", "-f", file, "--timeout=60s"]).catch(() => {});
    lv.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
