/**
 * A box as stock public boxes are, end to end: the test box rebuilt to accept Vagrant's insecure keys (no
 * vagrant_key in it; scripts/build_insecure_test_box.sh) published under a catalog name by an HTTP server
 * on 127.0.0.1 in the lab; `source: USER/NAME` with a constraint and a Domain with no ssh.privateKey boots
 * it, lv logs in with the insecure key and replaces it with the Domain's own.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Lv, requireLab, virshNames } from "../integration/helpers.ts";

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
kind: Network
metadata:
  name: stock-net
spec:
  mode: nat
  ipv4:
    address: 10.21.30.1
    prefix: 24
  dhcp:
    enabled: true
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: stock-vm
spec:
  box: stock
  driver: qemu
  memory: 512
  interfaces:
    - network: stock-net
      ip: 10.21.30.40
`;
}

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
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=5m"]);
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
