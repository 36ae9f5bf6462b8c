/**
 * examples/multi-machine.yaml end to end: two guests with per-domain settings; static addresses on a network
 * without DHCP written into the guests over SSH; the guests reach each other there.
 */
import assert from "node:assert/strict";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { Lv, requireLab, testBoxDir, virsh, virshNames } from "../integration/helpers.ts";

const MULTI = "examples/multi-machine.yaml";

Deno.test("examples/multi-machine.yaml: two VMs, per-domain settings, static IPs without DHCP", async (t) => {
  requireLab();
  testBoxDir();
  const lv = new Lv();
  const before = await virshNames("domains");
  const sshOut = async (name: string, cmd: string) => (await lv.ok(["ssh", name, "--", cmd])).stdout;
  try {
    await t.step("apply brings both up", async () => {
      const r = await lv.ok(["apply", "-f", MULTI, "--timeout=10m"]);
      assert.match(r.stdout, /domain\/web created\ndomain\/db created\n$/);
      assert.match(r.stderr, /domain\/web: Networks: static 10\.40\.0\.10\/24 on 52:54:00/);
    });

    await t.step("libvirt has each domain's settings", async () => {
      const web = parseDomainXml(await virsh("dumpxml", "web"));
      assert.equal(web.memoryMiB, 2048);
      assert.equal(web.vcpus, 2);
      assert.equal(web.disks[0].cache, "none");
      const db = parseDomainXml(await virsh("dumpxml", "db"));
      assert.equal(db.memoryMiB, 1024);
      assert.equal(db.vcpus, 1);
      assert.equal(db.disks[0].cache, "default");
    });

    await t.step(
      "inside: cpus, static addresses, and a TCP connection between the guests over the backend network",
      async () => {
        assert.equal((await sshOut("web", "nproc")).trim(), "2");
        assert.match(await sshOut("web", "ip -4 -o addr show"), /inet 10\.40\.0\.10\/24/);
        assert.match(await sshOut("db", "ip -4 -o addr show"), /inet 10\.40\.0\.20\/24/);
        // db's sshd answering on its backend address proves the path (the README's command).
        assert.match(
          await sshOut("web", "ssh-keyscan -T 10 -t ed25519 10.40.0.20"),
          /^10\.40\.0\.20 ssh-ed25519 /m,
        );
      },
    );

    await t.step("delete removes both", async () => {
      await lv.ok(["delete", "-f", MULTI, "--timeout=3m"]);
      assert.deepEqual(await virshNames("domains"), before);
    });
  } finally {
    await lv.run(["delete", "-f", MULTI, "--ignore-not-found", "--timeout=3m"]);
    lv.cleanup();
  }
});
