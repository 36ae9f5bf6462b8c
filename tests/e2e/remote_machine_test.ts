/**
 * examples/machine.yaml on a remote hypervisor: lv runs in a workstation network namespace that reaches the
 * lab (libvirtd, the guest's network) only through the lab's sshd. The box is uploaded over qemu+ssh, the
 * guest is provisioned and synced through the libvirt host as a jump host, and `lv ssh` and plain OpenSSH
 * with `lv ssh-config` reach it the same way.
 */
import assert from "node:assert/strict";
import { Lv, requireLab, run, virshNames } from "../integration/helpers.ts";
import { startRemoteHost } from "../integration/remote_host.ts";

const MACHINE = "examples/machine.yaml";

Deno.test("examples/machine.yaml on a remote libvirt host, guests reached through it", async (t) => {
  requireLab();
  if (!Deno.env.get("LV_TEST_BOX_DIR")) throw new Error("LV_TEST_BOX_DIR is not set: run `deno task test`");
  const host = await startRemoteHost();
  const lv = new Lv();
  lv.prefix = ["ip", "netns", "exec", host.netns];
  const before = {
    domains: await virshNames("domains"),
    networks: await virshNames("networks"),
    volumes: await virshNames("volumes"),
  };
  try {
    await lv.ok([
      "config",
      "set-context",
      "hv1",
      "--host",
      host.address,
      "--port",
      String(host.port),
      "--connect-via-ssh",
      "--username",
      "root",
      "--id-ssh-key-file",
      host.keyFile,
    ]);
    await lv.ok(["config", "use-context", "hv1"]);

    await t.step("apply: box uploaded over ssh, guest provisioned and synced through the host", async () => {
      const r = await lv.ok(["apply", "-f", MACHINE, "--timeout=10m"]);
      assert.equal(r.stdout, "box/debian12 created\nnetwork/test-net created\ndomain/test-vm created\n");
      assert.match(r.stderr, /domain\/test-vm: SshReady: SSH answers on 10\.20\.30\.40/);
      assert.match(r.stderr, /domain\/test-vm: Synced: .*machine-files synced to \/vagrant \(rsync\)/);
      assert.ok((await virshNames("volumes")).includes("box-debian12"));
    });

    await t.step("the workstation has no route to the guest: everything went through the host", async () => {
      const r = await run("ip", ["netns", "exec", host.netns, "ip", "route", "get", "10.20.30.40"]);
      assert.notEqual(r.code, 0);
    });

    await t.step("lv ssh reaches the guest through the host", async () => {
      const r = await lv.ok([
        "ssh",
        "test-vm",
        "--",
        "hostname; cat /etc/lv-provisioned; cat /vagrant/hello.txt",
      ]);
      assert.match(r.stdout, /^test-vm\nprovisioned by lv on test-vm\nHello from the host/);
      assert.equal((await lv.run(["ssh", "test-vm", "--", "exit 4"])).code, 4);
    });

    await t.step("ssh-config: plain OpenSSH with a ProxyCommand through the host", async () => {
      const config = `${lv.home}/ssh_config`;
      const text = (await lv.ok(["ssh-config", "test-vm"])).stdout;
      assert.match(text, /ProxyCommand .*ssh.* -W %h:%p 10\.251\.0\.1/);
      Deno.writeTextFileSync(config, text);
      const r = await run("ip", ["netns", "exec", host.netns, "ssh", "-F", config, "test-vm", "uname", "-n"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "test-vm");
    });

    await t.step("get -A names the context", async () => {
      assert.match(
        (await lv.ok(["get", "domains", "-A"])).stdout,
        /default\s+hv1\s+test-vm\s+Running\s+10\.20\.30\.40/,
      );
    });

    await t.step("delete leaves the remote host as before", async () => {
      await lv.ok(["delete", "-f", MACHINE, "--timeout=3m"]);
      assert.deepEqual(await virshNames("domains"), before.domains);
      assert.deepEqual(await virshNames("networks"), before.networks);
      assert.deepEqual(await virshNames("volumes"), before.volumes);
    });
  } finally {
    await host.stop();
    lv.cleanup();
  }
});
