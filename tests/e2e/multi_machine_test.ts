/**
 * examples/multi-machine.yaml end to end: two guests with per-domain settings; static addresses on a network
 * without DHCP written into the guests over SSH; the guests reach each other there; provisioners: a file
 * provisioner with a directory, one ansible playbook from the host with one inventory of both guests (groups,
 * host vars, extra vars, db's limit: all), and ansible_local on a guest without ansible (a clear condition).
 */
import assert from "node:assert/strict";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { Lv, requireLab, ROOT, testBoxDir, virsh, virshNames } from "../integration/helpers.ts";

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

    await t.step(
      "provisioners: a directory copied; one ansible inventory of both guests with their host vars; limit: all",
      async () => {
        assert.equal(await sshOut("web", "cat conf/app.conf"), "listen 8080\n");
        // db's run (limit: all) reached web with the inventory of both: web's host var, db in databases.
        assert.equal(await sshOut("web", "cat ansible-from-db.txt"), "web frontend databases=db\n");
        assert.equal(await sshOut("db", "cat ansible-from-db.txt"), "db database databases=db\n");
        // web's own run is limited to web (Vagrant's default); whether db was in its inventory yet is timing.
        assert.match(await sshOut("web", "cat ansible-from-web.txt"), /^web frontend databases=(db)?\n$/);
        assert.equal(await sshOut("db", "ls ansible-from-*"), "ansible-from-db.txt\n");
      },
    );

    await t.step(
      "ansible_local on a guest without ansible: Ready=False ProvisionerToolMissing, not a hang",
      async () => {
        const dir = await Deno.makeTempDir({ prefix: "lv-multi-" });
        try {
          const file = `${dir}/multi.yaml`;
          const text = (await Deno.readTextFile(`${ROOT}${MULTI}`))
            .replaceAll(": multi-machine-files/", `: ${ROOT}examples/multi-machine-files/`) +
            "    - type: ansible_local\n      name: local\n      playbook: site.yml\n      provisioningPath: /tmp\n";
          await Deno.writeTextFile(file, text);
          await lv.ok(["apply", "-f", file, "--timeout=5m"]);
          const r = await lv.run(["provision", "db", "--timeout=5m"]);
          assert.notEqual(r.code, 0, `provision succeeded:\n${r.stdout}${r.stderr}`);
          const db = JSON.parse((await lv.ok(["get", "domain", "db", "-o", "json"])).stdout);
          const ready = db.status.conditions.find((c: { type: string }) => c.type === "Ready");
          assert.deepEqual([ready.status, ready.reason], ["False", "ProvisionerToolMissing"]);
          assert.equal(
            ready.message,
            "local: ansible-playbook is not installed in the guest of domain/db; use a box that has it or set install: true",
          );
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
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
