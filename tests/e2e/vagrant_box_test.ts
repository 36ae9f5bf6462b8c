/**
 * A box as stock public boxes are, end to end: the test box rebuilt to accept Vagrant's insecure keys (no
 * vagrant_key in it; scripts/build_insecure_test_box.sh) published under a catalog name by an HTTP server
 * on 127.0.0.1 in the lab; `source: USER/NAME` with a constraint and a Domain with no ssh.privateKey boots
 * it, lv logs in with the insecure key and replaces it with the Domain's own. The same boot carries the
 * machine options a real host's users pick: `machineType: q35` and no interfaces, so the guest gets the
 * management interface on libvirt's `default` network (made here as Debian's libvirt makes it, not by lv,
 * and left as it was).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { Lv, requireLab, virsh, virshNames } from "../integration/helpers.ts";

function insecureBoxDir(): string {
  const dir = Deno.env.get("LV_TEST_INSECURE_BOX_DIR");
  if (!dir) {
    throw new Error(
      "LV_TEST_INSECURE_BOX_DIR is not set: run with scripts/test.sh tests/e2e/vagrant_box_test.ts (it builds the box)",
    );
  }
  return dir;
}

function manifest(): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: stock
spec:
  source: lv-test/debian12
  version: ">= 12.0, < 13.0"
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: stock-vm
spec:
  box: stock
  driver: qemu
  memory: 512
  machineType: q35
  # No interfaces: the management interface on libvirt's "default" network, which lv does not own.
`;
}

/** libvirt's own `default` network as Debian's libvirt-daemon-config-network defines it. */
const DEFAULT_NETWORK = `<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
  </ip>
</network>`;

const INSECURE_BLOBS = [
  "AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ==",
  "AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y",
];

Deno.test("source: USER/NAME with a constraint boots a stock-style box with Vagrant's insecure key, replaced", async (t) => {
  requireLab();
  const boxFile = join(insecureBoxDir(), "debian12-insecure.box");
  const digest = createHash("sha256").update(await Deno.readFile(boxFile)).digest("hex");
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    if (path === "/lv-test/debian12") {
      return Response.json({
        name: "lv-test/debian12",
        versions: [
          { version: "12.1.0", providers: [{ name: "libvirt", url: `${base}/debian12-12.1.0.box` }] },
          {
            version: "12.2.0",
            providers: [{
              name: "libvirt",
              url: `${base}/debian12-12.2.0.box`,
              architecture: "amd64",
              checksum_type: "sha256",
              checksum: digest,
            }],
          },
          { version: "13.0.0", providers: [{ name: "libvirt", url: `${base}/debian13.box` }] },
        ],
      });
    }
    if (path === "/debian12-12.2.0.box") {
      const file = await Deno.open(boxFile);
      return new Response(file.readable, { headers: { "content-length": String((await file.stat()).size) } });
    }
    return new Response("not found", { status: 404 });
  });
  const base: string = `http://127.0.0.1:${server.addr.port}`;
  const lv = new Lv(() => ({ LV_BOX_SERVER_URL: base, VAGRANT_HOME: "/nonexistent/vagrant.d" }));
  const dir = await Deno.makeTempDir({ prefix: "lv-stock-" });
  const file = join(dir, "stock.yaml");
  await Deno.writeTextFile(file, manifest());
  const before = await virshNames("volumes");
  await Deno.writeTextFile(join(dir, "default.xml"), DEFAULT_NETWORK);
  await virsh("net-define", join(dir, "default.xml"));
  await virsh("net-start", "default");
  const defaultNet = await virsh("net-dumpxml", "--inactive", "default");
  try {
    await t.step(
      "apply resolves 12.2.0, boots it, logs in with the insecure key and inserts the VM's own",
      async () => {
        const r = await lv.ok(["apply", "-f", file, "--timeout=10m"]);
        assert.match(
          r.stderr,
          /box\/stock: Resolved: lv-test\/debian12 \(>= 12\.0, < 13\.0\) is version 12\.2\.0/,
        );
        assert.match(r.stderr, /domain\/stock-vm: KeyInserted: /);
        assert.deepEqual(seen, ["/lv-test/debian12", "/debian12-12.2.0.box"]);
      },
    );

    await t.step("the insecure keys are gone from the guest; lv logs in with the inserted key", async () => {
      const keys = (await lv.ok(["ssh", "stock-vm", "--", "cat ~/.ssh/authorized_keys"])).stdout;
      for (const blob of INSECURE_BLOBS) {
        assert.ok(!keys.includes(blob), "an insecure key is still authorized");
      }
      assert.match(keys, /^ssh-ed25519 \S+ lv stock-vm$/m);
      const dom = JSON.parse((await lv.ok(["get", "domain", "stock-vm", "-o", "json"])).stdout);
      assert.ok(!JSON.stringify(dom).includes("BEGIN"), "no private key in the store");
    });

    await t.step(
      "the guest runs on q35 with its management address from libvirt's default network",
      async () => {
        const xml = parseDomainXml(await virsh("dumpxml", "stock-vm"));
        assert.match(xml.machine ?? "", /^pc-q35-/);
        assert.deepEqual(xml.interfaces.map((i) => [i.type, i.network]), [["network", "default"]]);
        const inside = await lv.ok([
          "ssh",
          "stock-vm",
          "--",
          "cat /sys/class/dmi/id/product_name; ip -4 -o addr",
        ]);
        assert.match(inside.stdout, /Q35/, "the guest's firmware says q35");
        const address = /inet (192\.168\.122\.\d+)\/24/.exec(inside.stdout)?.[1];
        assert.ok(address, `no address on the default network in the guest: ${inside.stdout}`);
        assert.match(
          (await lv.ok(["get", "domains"])).stdout,
          new RegExp(`stock-vm\\s+Running\\s+${address}\\s`),
        );
      },
    );

    await t.step("delete leaves libvirt's default network as it was, and running", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=5m"]);
      assert.equal(await virsh("net-dumpxml", "--inactive", "default"), defaultNet);
      assert.match(await virsh("net-info", "default"), /Active:\s+yes/);
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=5m"]);
    await virsh("net-destroy", "default").catch(() => "");
    await virsh("net-undefine", "default").catch(() => "");
    await server.shutdown();
    lv.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(
    (await virshNames("volumes")).filter((v) => !before.includes(v)),
    [],
    "delete leaves no volume",
  );
});
