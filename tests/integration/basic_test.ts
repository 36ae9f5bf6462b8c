/**
 * examples/basic.yaml against a real libvirtd (the lab's): apply, inspect with virsh, change, re-apply,
 * wait, delete, and check nothing lv made is left.
 */
import assert from "node:assert/strict";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { ownerOf } from "../../src/libvirt/xml/lv_metadata.ts";
import { parseVolumeXml } from "../../src/libvirt/xml/volume_xml.ts";
import { Lv, mutating, requireLab, ROOT, virsh, virshNames } from "./helpers.ts";

const BASIC = "examples/basic.yaml";

/** examples/basic.yaml with its Domain's spec edited, written to a temp file beside a copy of tiny.img. */
function variant(dir: string, edit: (text: string) => string): string {
  Deno.copyFileSync(`${ROOT}examples/tiny.img`, `${dir}/tiny.img`);
  const path = `${dir}/basic.yaml`;
  Deno.writeTextFileSync(path, edit(Deno.readTextFileSync(`${ROOT}${BASIC}`)));
  return path;
}

Deno.test("examples/basic.yaml converges a real libvirtd and deletes cleanly", async (t) => {
  requireLab();
  const lv = new Lv();
  const before = {
    domains: await virshNames("domains"),
    networks: await virshNames("networks"),
    volumes: await virshNames("volumes"),
  };
  let uid = "";
  try {
    await t.step("apply creates every object and returns when Ready", async () => {
      const r = await lv.ok(["apply", "-f", BASIC, "--timeout=120s"]);
      assert.equal(
        r.stdout,
        "box/tiny created\nnetwork/basic-net created\nvolume/web-data created\ndomain/web created\n",
      );
      assert.match(r.stderr, /domain\/web: Started/);
    });

    await t.step(
      "virsh shows the pool, volumes, network and domain as specified, with lv metadata",
      async () => {
        const doms = JSON.parse((await lv.ok(["get", "domains", "-o", "json"])).stdout);
        uid = doms.items[0].metadata.uid;
        assert.equal(doms.items[0].status.phase, "Running");
        assert.ok(await virsh("pool-info", "default"));
        const box = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "box-tiny"));
        assert.equal(box.format, "raw");
        assert.equal(box.capacity, 1 << 20);
        const overlay = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "web"));
        assert.equal(overlay.format, "qcow2");
        assert.equal(overlay.backingStore?.path, box.path);
        const data = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", "web-data"));
        assert.equal(data.capacity, 64 * 2 ** 20);

        const netXml = await virsh("net-dumpxml", "basic-net");
        assert.match(netXml, /<forward mode=['"]nat['"]/);
        assert.match(netXml, /address=['"]10\.123\.0\.1['"]/);
        assert.match(netXml, /<range start=['"]10\.123\.0\.2['"] end=['"]10\.123\.0\.254['"]/);
        assert.equal(ownerOf(netXml)?.kind, "Network");
        assert.match(await virsh("net-info", "basic-net"), /Autostart:\s+yes/);

        const dom = parseDomainXml(await virsh("dumpxml", "web"));
        assert.equal(dom.type, "qemu");
        assert.equal(dom.memoryMiB, 256);
        assert.equal(dom.vcpus, 1);
        assert.deepEqual(dom.disks.map((d) => [d.device, d.path]), [["vda", overlay.path], [
          "vdb",
          data.path,
        ]]);
        assert.equal(dom.interfaces[0].network, "basic-net");
        assert.equal(dom.owner?.uid, uid);
        assert.equal((await virsh("domstate", "web")).trim(), "running");
      },
    );

    await t.step(
      "a second apply of the unchanged file reports unchanged and changes nothing in libvirt",
      async () => {
        lv.virshCalls();
        const r = await lv.ok(["apply", "-f", BASIC]);
        assert.equal(r.stdout.match(/unchanged/g)?.length, 4);
        assert.deepEqual(mutating(lv.virshCalls()), []);
      },
    );

    await t.step("get, selectors and wait", async () => {
      const table = (await lv.ok(["get", "domains"])).stdout;
      assert.match(table, /^NAME\s+STATE\s+IP\s+BOX\s+READY\s+AGE\n/);
      assert.match(table, /^web\s+Running\s+tiny\s+True\s+\d+s$/m);
      assert.equal((await lv.ok(["get", "dom", "-l", "app=web", "-o", "name"])).stdout, "domain/web\n");
      assert.equal((await lv.ok(["get", "dom", "-l", "app=db", "-o", "name"])).stdout, "");
      const all = (await lv.ok(["get", "boxes,networks,volumes,domains", "-o", "name"])).stdout;
      assert.equal(all, "box/tiny\nnetwork/basic-net\nvolume/web\nvolume/web-data\ndomain/web\n");
      const w = await lv.ok(["wait", "--for=condition=Ready", "domain/web", "--timeout=30s"]);
      assert.equal(w.stdout, "domain/web condition met\n");
      const missing = await lv.run(["get", "domain", "nope"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /domain\/nope not found/);
    });

    const dir = Deno.makeTempDirSync();
    await t.step(
      "memory change on a running domain is redefined and reported as RestartRequired",
      async () => {
        const file = variant(dir, (s) => s.replace("memory: 256", "memory: 384"));
        const r = await lv.ok(["apply", "-f", file]);
        assert.match(r.stdout, /domain\/web configured/);
        assert.equal(parseDomainXml(await virsh("dumpxml", "--inactive", "web")).memoryMiB, 384);
        assert.equal(parseDomainXml(await virsh("dumpxml", "web")).memoryMiB, 256);
        const d = (await lv.ok(["describe", "domain", "web"])).stdout;
        assert.match(d, /RestartRequired\s+True\s+ConfigChanged/);
        assert.match(d, /Generation:\s+2 \(observed 2\)/);
      },
    );

    for (
      const [state, virshState] of [["Stopped", "shut off"], ["Paused", "paused"], ["Running", "running"]]
    ) {
      await t.step(`state: ${state} makes virsh domstate say ${virshState}`, async () => {
        const file = variant(dir, (s) => s.replace("memory: 256", `memory: 384\n  state: ${state}`));
        await lv.ok(["apply", "-f", file, "--timeout=60s"]);
        assert.equal((await virsh("domstate", "web")).trim(), virshState);
      });
    }

    await t.step("the restart applied the new memory: RestartRequired is gone", async () => {
      assert.equal(parseDomainXml(await virsh("dumpxml", "web")).memoryMiB, 384);
      assert.doesNotMatch((await lv.ok(["describe", "domain", "web"])).stdout, /RestartRequired/);
    });

    await t.step("delete -f removes everything lv made, and only that", async () => {
      const r = await lv.ok(["delete", "-f", BASIC, "--timeout=60s"]);
      assert.match(r.stdout, /domain\/web deleted/);
      assert.deepEqual(await virshNames("domains"), before.domains);
      assert.deepEqual(await virshNames("networks"), before.networks);
      assert.deepEqual(await virshNames("volumes"), before.volumes);
      assert.equal((await lv.ok(["get", "boxes,networks,volumes,domains", "-o", "name"])).stdout, "");
    });
  } finally {
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
  }
});

Deno.test("a network lv did not create is never touched: NameConflict", async () => {
  requireLab();
  const lv = new Lv();
  const foreign =
    `<network><name>taken</name><bridge name="lvtaken0"/><ip address="10.124.0.1" prefix="24"/></network>`;
  const file = `${lv.home}/taken.yaml`;
  Deno.writeTextFileSync(
    file,
    `apiVersion: lv.dev/v1alpha1\nkind: Network\nmetadata:\n  name: taken\nspec:\n  ipv4:\n    address: 10.125.0.1\n`,
  );
  try {
    Deno.writeTextFileSync(`${lv.home}/foreign.xml`, foreign);
    await virsh("net-define", `${lv.home}/foreign.xml`);
    const before = await virsh("net-dumpxml", "taken");
    const r = await lv.run(["apply", "-f", file, "--timeout=30s"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /network\/taken: Ready=False NameConflict: libvirt already has a network "taken"/);
    await lv.ok(["delete", "network", "taken", "--timeout=30s"]);
    assert.equal(await virsh("net-dumpxml", "taken"), before);
    assert.deepEqual(mutating(lv.virshCalls()), []);
  } finally {
    await virsh("net-undefine", "taken").catch(() => {});
    lv.cleanup();
  }
});

Deno.test("an invalid file is refused whole: exit 2, file:line:column, nothing written", async () => {
  requireLab();
  const lv = new Lv();
  try {
    const file = `${lv.home}/bad.yaml`;
    Deno.writeTextFileSync(
      file,
      `apiVersion: lv.dev/v1alpha1\nkind: Network\nmetadata:\n  name: ok-net\nspec:\n  ipv4:\n    address: 10.126.0.1\n---\napiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata:\n  name: bad\nspec:\n  memroy: 512\n`,
    );
    const r = await lv.run(["apply", "-f", file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:14:3: spec\\.memroy: unknown field.*memory`));
    assert.match(r.stderr, /nothing was applied/);
    assert.equal((await lv.ok(["get", "networks,domains", "-o", "name"])).stdout, "");
    assert.deepEqual(lv.virshCalls(), []);
  } finally {
    lv.cleanup();
  }
});
