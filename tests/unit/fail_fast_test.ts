/**
 * Fail fast: apply against a local libvirt that does not answer (a real virsh, a socket nobody listens on)
 * or the test:/// driver says so with the fix, writes nothing and exits 1; lv doctor checks the tools,
 * /dev/kvm and the URI, and fails when something is missing.
 */
import assert from "node:assert/strict";
import { doctor, kvmDevice, runChecks } from "../../src/cli/doctor.ts";
import { CommandFailed } from "../../src/cli/errors.ts";
import { lvAt } from "./cli_run.ts";
import { EXAMPLES_DIR } from "./harness.ts";
import { newCliHarness } from "./cli_harness.ts";

const BASIC = `${EXAMPLES_DIR}/basic.yaml`;

Deno.test("apply against a local libvirt socket nobody listens on fails at once, with the fix, writing nothing", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const r = await lvAt(
      home,
      "apply",
      "-f",
      BASIC,
      "--connect",
      `qemu:///system?socket=${home}/no-such-sock`,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: cannot reach libvirt of qemu:\/\/\/system\?socket=.*; nothing was applied\.\n/,
    );
    assert.match(r.stderr, /\nfix: start libvirtd .*lv doctor checks the host\n$/);
    assert.equal(r.stdout, "");
    assert.equal((await lvAt(home, "get", "all", "-o", "name")).stdout, "");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("apply refuses to wait on the test:/// driver and writes nothing", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const r = await lvAt(home, "apply", "-f", BASIC, "--connect", "test:///default");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /test:\/\/\/default is libvirt's test driver: .* nothing was applied\. Use qemu:\/\/\/system/,
    );
    assert.equal((await lvAt(home, "get", "all", "-o", "name")).stdout, "");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("lv doctor names the URI, fails on a missing rsync or ssh with the package to install", async () => {
  const h = await newCliHarness({ defaultPool: true });
  const bin = Deno.makeTempDirSync();
  const path = Deno.env.get("PATH")!;
  try {
    for (const tool of ["virsh", "qemu-img", "tar"]) {
      Deno.writeTextFileSync(`${bin}/${tool}`, "#!/bin/sh\n");
      Deno.chmodSync(`${bin}/${tool}`, 0o755);
    }
    Deno.env.set("PATH", bin);
    const checks = await runChecks(h.rt);
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    assert.equal(byName.rsync.ok, false);
    assert.equal(byName.rsync.fix, "apt-get install rsync");
    assert.equal(byName.ssh.fix, "apt-get install openssh-client");
    assert.equal(byName["qemu-img"].ok, true);
    assert.match(byName["libvirt URI"].detail, /^qemu:\/\/\/system \(from /);
    assert.ok(byName["/dev/kvm"]);
    await assert.rejects(doctor(h.rt), CommandFailed);
  } finally {
    Deno.env.set("PATH", path);
    Deno.removeSync(bin, { recursive: true });
    await h.close();
  }
});

Deno.test("/dev/kvm: absent warns; present but closed to the user fails for qemu:///session only", async () => {
  const absent = await kvmDevice("qemu:///system", "/nonexistent/kvm");
  assert.equal(absent.ok, "warn");
  if (Deno.uid() === 0) return; // root opens any file: the permission case needs another user
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/kvm`, "");
    Deno.chmodSync(`${dir}/kvm`, 0o000);
    assert.equal((await kvmDevice("qemu:///session", `${dir}/kvm`)).ok, false);
    assert.equal((await kvmDevice("qemu:///system", `${dir}/kvm`)).ok, "warn");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
