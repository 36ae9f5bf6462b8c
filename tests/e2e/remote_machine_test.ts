/**
 * The README's "A remote hypervisor" commands, run as written (but for the host's address): lv runs in a
 * workstation network namespace that reaches the lab (libvirtd, the guest's network) only through the lab's
 * sshd. The box is uploaded over qemu+ssh, the guest is provisioned and synced through the libvirt host as a
 * jump host, and `lv ssh` and plain OpenSSH with `lv ssh-config` reach it the same way; machine.yaml's forwarded
 * port listens on the workstation and reaches the guest's sshd through the host, and is gone after delete.
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, run, testBoxDir, virshNames } from "../integration/helpers.ts";
import { startRemoteHost } from "../integration/remote_host.ts";

const MACHINE = "examples/machine.yaml";

/** The commands of the README's "A remote hypervisor" block, comments dropped, `a ; b` split. */
export function remoteCommands(readme: string): string[] {
  const section = readme.split("## A remote hypervisor")[1].split("\n## ")[0];
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l)
    .flatMap((l) => l.split(" ; "));
}

/** The host key of `type` answering on 127.0.0.1:2222 (machine.yaml's forwarded port) in the workstation's namespace. */
async function forwardedHostKey(
  netns: string,
  type = "ed25519",
): Promise<{ code: number; key: string; stderr: string }> {
  const r = await run("ip", [
    "netns",
    "exec",
    netns,
    "ssh-keyscan",
    "-T",
    "20",
    "-p",
    "2222",
    "-t",
    type.replace(/^ssh-/, ""),
    "127.0.0.1",
  ]);
  const line = r.stdout.split("\n").find((l) => l.startsWith("[127.0.0.1]:2222 "));
  return { code: r.code, key: line ? line.split(" ").slice(1, 3).join(" ") : "", stderr: r.stderr };
}

Deno.test("README's remote hypervisor: examples/machine.yaml on an ssh-reached host, guests through it", async (t) => {
  requireLab();
  testBoxDir();
  const readme = remoteCommands(Deno.readTextFileSync(`${ROOT}README.md`));
  assert.deepEqual(readme.map((l) => l.split(" ").slice(0, 3).join(" ")), [
    "lv config set-context",
    "lv config use-context",
    "lv config get-contexts",
    "lv apply -f",
    "lv ssh test-vm",
    "lv get domains",
    "lv box list",
    "lv box prune",
  ]);
  const host = await startRemoteHost();
  const lv = new Lv();
  lv.prefix = ["ip", "netns", "exec", host.netns];
  const here = (line: string) =>
    line.replace("hv1.example", host.address).replace("--port 22 ", `--port ${host.port} `)
      .replace("~/.ssh/id_ed25519", host.keyFile).split(" ").slice(1);
  const [setContext, useContext, getContexts, applyLine, sshLine, getAll, boxList, boxPrune] = readme.map(
    here,
  );
  const before = {
    domains: await virshNames("domains"),
    networks: await virshNames("networks"),
    volumes: await virshNames("volumes"),
  };
  try {
    await t.step("set-context, use-context, get-contexts", async () => {
      await lv.ok(setContext);
      await lv.ok(useContext);
      assert.match(
        (await lv.ok(getContexts)).stdout,
        /^\*\s+lab\s+qemu\+ssh:\/\/root@10\.251\.0\.1:2222\/system\s+default/m,
      );
    });

    await t.step("apply: box uploaded over ssh, guest provisioned and synced through the host", async () => {
      const r = await lv.ok([...applyLine, "--timeout=10m"]);
      assert.equal(r.stdout, "box/debian12 created\nnetwork/test-net created\ndomain/test-vm created\n");
      assert.match(r.stderr, /domain\/test-vm: SshReady: SSH answers on 10\.20\.30\.40/);
      assert.match(r.stderr, /domain\/test-vm: Synced: .*machine-files synced to \/vagrant \(rsync\)/);
      assert.ok((await virshNames("volumes")).includes("box-debian12"));
    });

    await t.step("the workstation has no route to the guest: everything went through the host", async () => {
      const r = await run("ip", ["netns", "exec", host.netns, "ip", "route", "get", "10.20.30.40"]);
      assert.notEqual(r.code, 0);
    });

    await t.step("lv ssh test-vm: a shell on the guest, through the host", async () => {
      const r = await lv.ok(sshLine, { stdin: "echo on-$(hostname)\nexit\n" });
      assert.match(r.stdout, /on-test-vm/);
      const cmd = await lv.ok([...sshLine, "--", "cat /etc/lv-provisioned; cat /vagrant/hello.txt"]);
      assert.match(cmd.stdout, /^provisioned by lv on test-vm\nHello from the host/);
      assert.equal((await lv.run([...sshLine, "--", "exit 4"])).code, 4);
    });

    await t.step(
      "the forwarded port (127.0.0.1:2222 on the workstation) reaches the guest's sshd through the host",
      async () => {
        const dom = JSON.parse((await lv.ok(["get", "domain", "test-vm", "-o", "json"])).stdout);
        const forwarded = dom.status.conditions.find((c: { type: string }) => c.type === "PortsForwarded");
        assert.equal(forwarded?.status, "True", JSON.stringify(forwarded));
        // The guest's own host key answers on the workstation's port (the workstation has no route to the
        // guest, and the libvirt host's sshd has another key): the forwarder tunnels through the host.
        const scan = await forwardedHostKey(host.netns, dom.status.sshHostKey.split(" ")[0]);
        assert.equal(scan.code, 0, scan.stderr);
        assert.equal(scan.key, dom.status.sshHostKey);
      },
    );

    await t.step("ssh-config: plain OpenSSH with a ProxyCommand through the host", async () => {
      const config = `${lv.home}/ssh_config`;
      const text = (await lv.ok(["ssh-config", "test-vm"])).stdout;
      assert.match(text, /ProxyCommand .*ssh.* -W %h:%p 10\.251\.0\.1/);
      Deno.writeTextFileSync(config, text);
      const r = await run("ip", ["netns", "exec", host.netns, "ssh", "-F", config, "test-vm", "uname", "-n"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "test-vm");
    });

    await t.step("get -A names the context; box list shows the box in use; prune keeps it", async () => {
      assert.match((await lv.ok(getAll)).stdout, /default\s+lab\s+test-vm\s+Running\s+10\.20\.30\.40/);
      assert.match((await lv.ok(boxList)).stdout, /debian12/);
      await lv.ok(boxPrune);
      assert.ok((await virshNames("volumes")).includes("box-debian12"), "a box in use is not pruned");
    });

    await t.step("delete leaves the remote host as before", async () => {
      await lv.ok(["delete", "-f", MACHINE, "--timeout=3m"]);
      assert.deepEqual(await virshNames("domains"), before.domains);
      assert.deepEqual(await virshNames("networks"), before.networks);
      assert.deepEqual(await virshNames("volumes"), before.volumes);
      assert.equal((await forwardedHostKey(host.netns)).key, "", "the forwarded port is closed");
      assert.deepEqual([...Deno.readDirSync(`${lv.home}/forwarders`)], [], "no forwarder left");
    });
  } finally {
    await host.stop();
    lv.cleanup();
  }
});
