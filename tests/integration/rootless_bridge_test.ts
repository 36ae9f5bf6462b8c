/**
 * `interfaces: [{bridge: BR}]` on a rootless qemu:///session: libvirt runs qemu-bridge-helper, which makes a
 * tap and enslaves it to the bridge (made by the test with `ip`). The helper is made usable for the lab only
 * (lab_bridge_helper.ts: bridge.conf, setuid copy, /dev/net/tun); no guest boots (communicator: none).
 */
import assert from "node:assert/strict";
import { requireLab, run, waitFor } from "./helpers.ts";
import { labBridgeHelper } from "./lab_bridge_helper.ts";
import { rootlessUser, SESSION } from "./rootless_user.ts";

const BRIDGE = "lvbrs0";

const MANIFEST = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: bridged
spec:
  communicator: none
  driver: qemu
  memory: 128
  gracefulHaltTimeout: 1
  interfaces:
    - bridge: ${BRIDGE}
      mac: "52:54:00:5e:00:01"
`;

/** The interfaces enslaved to the bridge, as `ip -o link` names them. */
async function ports(): Promise<string[]> {
  const out = (await run("ip", ["-o", "link", "show", "master", BRIDGE])).stdout;
  return out.split("\n").filter((l) => l.trim()).map((l) => l.split(":")[1].trim().split("@")[0]);
}

Deno.test("qemu:///session: a bridge interface through qemu-bridge-helper, its tap on the bridge", async (t) => {
  requireLab();
  const made = await run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  assert.equal(made.code, 0, made.stderr);
  await run("ip", ["link", "set", BRIDGE, "up"]);
  const helper = await labBridgeHelper(BRIDGE);
  const user = await rootlessUser();
  const lv = user.lv;
  const file = `${lv.home}/bridged.yaml`;
  try {
    await Deno.writeTextFile(file, MANIFEST);
    await Deno.chown(file, user.uid, user.uid);

    await t.step("lv doctor: the bridge helper works for the bridge", async () => {
      const r = await lv.run(["doctor"]);
      assert.match(
        r.stdout,
        new RegExp(`bridge helper\\s+ok\\s+bridge: interfaces work for ${BRIDGE}`),
        r.stdout,
      );
    });

    await t.step("apply: the user's QEMU runs with a tap enslaved to the bridge", async () => {
      await lv.ok(["apply", "-f", file, "--timeout=120s"]);
      assert.deepEqual(await ports(), ["tap0"]);
      const link = (await run("ip", ["-o", "link", "show", "tap0"])).stdout;
      assert.match(link, new RegExp(`master ${BRIDGE} `));
      const qemu = (await run("ps", ["-eo", "uid=,args="])).stdout.split("\n")
        .filter((l) => /qemu-system/.test(l) && l.includes("guest=bridged,"));
      assert.equal(qemu.length, 1, qemu.join("\n"));
      assert.equal(Number(qemu[0].trim().split(/\s+/)[0]), user.uid, "QEMU runs as the user");
      const iflist = await user.run("virsh", ["-q", "-c", SESSION, "domiflist", "bridged"]);
      assert.match(iflist.stdout, new RegExp(`tap0\\s+bridge\\s+${BRIDGE}\\s+virtio\\s+52:54:00:5e:00:01`));
    });

    await t.step("delete: the tap goes, the bridge stays as the test made it", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=60s"]);
      await waitFor(async () => (await ports()).length === 0, "no port left on the bridge", 20_000);
      assert.equal((await run("ip", ["link", "show", BRIDGE])).code, 0, "the bridge is not lv's to remove");
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=60s"]);
    await user.stop();
    await helper.stop();
    await run("ip", ["link", "del", BRIDGE]);
  }
});
