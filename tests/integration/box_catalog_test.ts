/**
 * Vagrant catalog boxes on the lab's libvirtd, through the real CLI: a catalog served by an HTTP server on
 * 127.0.0.1 inside the lab's network namespace (several versions, a virtualbox provider, an arm64-only
 * version, checksums), `lv box outdated` and `lv box update` after the catalog gains a version (the old base
 * volume kept while the domain's overlay uses it, pruned after), and a box in a VAGRANT_HOME layout used
 * with no request in the server's log.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Lv, requireLab, run, virshNames } from "./helpers.ts";

async function sh(cmd: string, args: string[], cwd?: string): Promise<void> {
  const r = await run(cmd, args, { cwd });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

/** A Vagrant libvirt .box (tar.gz) of a qcow2 image of `mib` MiB; returns its bytes. */
async function makeBox(dir: string, mib: number): Promise<Uint8Array<ArrayBuffer>> {
  const src = await Deno.makeTempDir({ dir });
  await sh("qemu-img", ["create", "-q", "-f", "qcow2", join(src, "box.img"), `${mib}M`]);
  await Deno.writeTextFile(
    join(src, "metadata.json"),
    JSON.stringify({ provider: "libvirt", format: "qcow2" }),
  );
  await sh("tar", ["-czf", join(src, "x.box"), "metadata.json", "box.img"], src);
  return await Deno.readFile(join(src, "x.box"));
}

const sha256 = (b: Uint8Array<ArrayBuffer>) => createHash("sha256").update(b).digest("hex");

function manifest(): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: catalog-box
spec:
  source: lv-test/tiny
  version: "~> 1.0"
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: catalog-vm
spec:
  box: catalog-box
  driver: qemu
  communicator: none
  memory: 128
`;
}

Deno.test("catalog boxes on a real libvirtd: version choice, outdated, update, prune, VAGRANT_HOME", async (t) => {
  requireLab();
  const dir = await Deno.makeTempDir({ prefix: "lv-catalog-" });
  const boxes: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const [version, mib] of [["1.0.0", 1], ["1.1.0", 2], ["1.3.0", 3], ["2.0.0", 4]] as const) {
    boxes[version] = await makeBox(dir, mib);
  }
  const published = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"];
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    if (path === "/lv-test/tiny") {
      return Response.json({
        name: "lv-test/tiny",
        versions: published.map((version) => ({
          version,
          providers: version === "1.2.0"
            ? [{ name: "libvirt", url: `${base}/boxes/${version}-arm64.box`, architecture: "arm64" }]
            : [
              { name: "virtualbox", url: `${base}/boxes/${version}-vbox.box` },
              {
                name: "libvirt",
                url: `${base}/boxes/${version}-amd64.box`,
                architecture: "amd64",
                checksum_type: "sha256",
                checksum: sha256(boxes[version]),
              },
            ],
        })),
      });
    }
    const m = path.match(/^\/boxes\/([\d.]+)-amd64\.box$/);
    if (m && boxes[m[1]]) return new Response(boxes[m[1]]);
    return new Response("not found", { status: 404 });
  });
  const base: string = `http://127.0.0.1:${server.addr.port}`;
  const vagrantHome = join(dir, "vagrant.d");
  const lv = new Lv(() => ({ LV_BOX_SERVER_URL: base, VAGRANT_HOME: vagrantHome }));
  const file = join(dir, "catalog.yaml");
  await Deno.writeTextFile(file, manifest());
  const getBox = async (name: string) => JSON.parse((await lv.ok(["get", "box", name, "-o", "json"])).stdout);
  try {
    await t.step("the newest ~> 1.0 version with an amd64 libvirt provider is chosen", async () => {
      await lv.ok(["apply", "-f", file, "--timeout=120s"]);
      const box = await getBox("catalog-box");
      assert.equal(box.status.version.version, "1.1.0");
      assert.equal(box.status.version.url, `${base}/boxes/1.1.0-amd64.box`);
      assert.equal(box.status.sha256, sha256(boxes["1.1.0"]));
      assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.1.0-amd64.box"]);
      assert.ok((await virshNames("volumes")).includes("box-catalog-box"));
    });

    await t.step("lv box outdated: nothing, then the version the catalog gains", async () => {
      const none = await lv.ok(["box", "outdated"]);
      assert.equal(none.stdout, "");
      assert.match(none.stderr, /Every box is on the newest version it allows/);
      published.push("1.3.0");
      const r = await lv.ok(["box", "outdated"]);
      assert.match(
        r.stdout,
        /^BOX +SOURCE +CONSTRAINT +CURRENT +NEWEST\ncatalog-box +lv-test\/tiny +~> 1\.0 +1\.1\.0 +1\.3\.0\n$/,
      );
    });

    await t.step("lv box update: new base volume; the old one stays while the overlay uses it", async () => {
      const r = await lv.ok(["box", "update", "catalog-box", "--timeout=120s"]);
      assert.match(r.stdout, /box\/catalog-box updated from 1\.1\.0 to 1\.3\.0/);
      const box = await getBox("catalog-box");
      assert.equal(box.status.version.version, "1.3.0");
      assert.equal(box.status.volume, "box-catalog-box-v1.3.0");
      assert.equal(box.status.virtualSize, 3 * 2 ** 20);
      const volumes = await virshNames("volumes");
      assert.ok(volumes.includes("box-catalog-box") && volumes.includes("box-catalog-box-v1.3.0"));
      // lv's Volume names the Box, so the new base lists it too; libvirt shows it on the old one.
      const list = await lv.ok(["box", "list"]);
      assert.match(list.stdout, /\n<none> +default +box-catalog-box +qcow2 +2Mi +volume\/catalog-vm\n/);
      assert.match(
        list.stdout,
        /\ncatalog-box +default +box-catalog-box-v1\.3\.0 +1 +qcow2 +3Mi +volume\/catalog-vm +lv-test\/tiny 1\.3\.0\n/,
      );
      await lv.ok(["box", "prune"]);
      assert.ok((await virshNames("volumes")).includes("box-catalog-box"), "kept while used");
    });

    await t.step("after the domain goes, lv box prune removes the old base volume", async () => {
      await lv.ok(["delete", "domain", "catalog-vm", "--timeout=120s"]);
      const r = await lv.ok(["box", "prune"]);
      assert.match(r.stdout, /volume box-catalog-box deleted from pool default: no Box owns it/);
      assert.ok(!(await virshNames("volumes")).includes("box-catalog-box"));
    });

    await t.step("a box in VAGRANT_HOME is used with no request to the server", async () => {
      const vdir = join(
        vagrantHome,
        "boxes",
        "lv-test-VAGRANTSLASH-vagrant-only",
        "1.0.0",
        "amd64",
        "libvirt",
      );
      await Deno.mkdir(vdir, { recursive: true });
      await Deno.writeFile(join(dir, "v.box"), boxes["1.0.0"]);
      await sh("tar", ["-xzf", join(dir, "v.box"), "-C", vdir]);
      const vfile = join(dir, "vagrant.yaml");
      await Deno.writeTextFile(
        vfile,
        `apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata:\n  name: vagrant-box\nspec:\n  source: lv-test/vagrant-only\n  version: "1.0.0"\n`,
      );
      const before = seen.length;
      await lv.ok(["apply", "-f", vfile, "--timeout=120s"]);
      assert.deepEqual(seen.slice(before), [], "no request");
      const box = await getBox("vagrant-box");
      assert.equal(box.status.version.from, "vagrant-home");
      assert.match(
        (await lv.ok(["box", "list"])).stdout,
        /\nvagrant-box +default +box-vagrant-box .*lv-test\/vagrant-only 1\.0\.0 \(vagrant\)\n/,
      );
      await lv.ok(["delete", "-f", vfile, "--timeout=120s"]);
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=120s"]);
    await lv.run(["box", "prune"]);
    await server.shutdown();
    lv.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
