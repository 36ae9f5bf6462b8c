import assert from "node:assert/strict";
import { bridgeHelperCheck, machineChecks, modeCheck, poolCheck } from "../../src/cli/doctor_machine.ts";
import { newCliHarness as newHarness } from "./cli_harness.ts";

Deno.test("lv doctor: the pool lv would create, UEFI and swtpm, and the connection's mode", async (t) => {
  await t.step("a missing default pool is created at libvirt's path at first use", async () => {
    const h = await newHarness();
    try {
      const c = await poolCheck(h.rt);
      assert.deepEqual([c.name, c.ok, c.detail], [
        "pool default",
        "warn",
        "missing; lv creates it as a dir pool at /var/lib/libvirt/images at first use",
      ]);
      h.fake.addPool("default");
      assert.equal((await poolCheck(h.rt)).ok, true);
    } finally {
      await h.close();
    }
  });
  await t.step("OVMF and swtpm found, or the package to install", async () => {
    for (const [installed, ok] of [[true, true], [false, "warn"]] as const) {
      const h = await newHarness({ fake: { ovmf: installed, swtpm: installed } });
      try {
        const checks = await machineChecks(h.rt, "qemu");
        assert.deepEqual(checks.map((c) => [c.name, c.ok]), [["uefi", ok], ["tpm", ok]]);
        if (!installed) {
          assert.deepEqual(checks.map((c) => c.fix), [
            "apt-get install ovmf",
            "apt-get install swtpm swtpm-tools",
          ]);
        }
      } finally {
        await h.close();
      }
    }
  });
  await t.step("system or rootless session", () => {
    assert.equal(modeCheck("qemu:///system").ok, true);
    assert.equal(modeCheck("qemu:///session").ok, "warn");
    assert.match(modeCheck("qemu:///session").detail, /rootless/);
  });
});

Deno.test("bridgeHelperCheck() says what a rootless session lacks for bridge: interfaces", async (t) => {
  const dir = await Deno.makeTempDir();
  const paths = { helper: `${dir}/qemu-bridge-helper`, conf: `${dir}/bridge.conf`, tun: `${dir}/tun` };
  await Deno.writeTextFile(paths.tun, ""); // a stand-in this user can open
  try {
    await t.step("no helper: the package that has it", async () => {
      const c = await bridgeHelperCheck(paths);
      assert.deepEqual([c.ok, c.fix], ["warn", "apt-get install qemu-system-common"]);
    });
    await Deno.writeTextFile(paths.helper, "");
    await t.step("not setuid root, no allow line: both fixes", async () => {
      const c = await bridgeHelperCheck(paths);
      assert.equal(c.ok, "warn");
      assert.match(c.detail, /is not setuid root; .*bridge\.conf allows no bridge/);
      assert.equal(
        c.fix,
        `sudo chmod u+s ${paths.helper}; echo 'allow virbr0' | sudo tee -a ${paths.conf}`,
      );
    });
    await Deno.writeTextFile(paths.conf, "# bridges\nallow virbr0\nallow br0\n");
    await t.step("the allowed bridges named once setuid", async () => {
      await Deno.chmod(paths.helper, 0o4755);
      const c = await bridgeHelperCheck(paths);
      if (Deno.uid() === 0) {
        assert.deepEqual([c.ok, c.detail], [
          true,
          `bridge: interfaces work for virbr0, br0 (${paths.helper})`,
        ]);
      } else {
        assert.match(c.detail, /is not setuid root/, "setuid, but not root's");
      }
    });
    await t.step("a TUN device this user cannot open: the mode to give it", async () => {
      const c = await bridgeHelperCheck({ ...paths, tun: `${dir}/no-such-tun` });
      assert.equal(c.ok, "warn");
      assert.match(c.detail, new RegExp(`cannot open ${dir}/no-such-tun as you`));
      assert.match(c.fix ?? "", new RegExp(`sudo chmod 0666 ${dir}/no-such-tun`));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
