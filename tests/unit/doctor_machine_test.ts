import assert from "node:assert/strict";
import { machineChecks, modeCheck, poolCheck } from "../../src/cli/doctor_machine.ts";
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
