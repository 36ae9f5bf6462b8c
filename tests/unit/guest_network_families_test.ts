/** The guest OS families' static network configuration (ifupdown, netplan, NetworkManager) on the fake guest. */
import assert from "node:assert/strict";
import { configureStatic } from "../../src/guest/steps/configure_static.ts";
import { detectFamily } from "../../src/guest/network/families.ts";
import { ifupdownStanza } from "../../src/guest/network/ifupdown.ts";
import { NETPLAN_FILE, netplanConfig } from "../../src/guest/network/netplan.ts";
import type { StaticInterface } from "../../src/guest/network/static_interfaces.ts";
import type { GuestSession } from "../../src/guest/session.ts";
import { FakeGuest } from "./fake_guest.ts";
import { loginTo } from "./fake_guest_login.ts";
import {
  asIfupdownGuest,
  asNetplanGuest,
  asNetworkManagerGuest,
  IFUPDOWN_MAIN,
  NETPLAN_BOX,
} from "./fake_guest_network.ts";

const ETH1: StaticInterface = { mac: "52:54:00:aa:bb:01", address: "10.9.0.5", prefix: 24 };
const ETH2: StaticInterface = { mac: "52:54:00:aa:bb:02", address: "10.9.1.5", prefix: 16 };

/** A fake guest with eth0 (DHCP, SSH), eth1 and eth2, logged in to as vagrant. */
async function login(): Promise<{ guest: FakeGuest; session: GuestSession }> {
  const guest = new FakeGuest();
  guest.addInterface("eth1", ETH1.mac);
  guest.addInterface("eth2", ETH2.mac);
  return { guest, session: await loginTo(guest) };
}

/** Every file under `dir` that is not lv's, with its content. */
function othersUnder(guest: FakeGuest, dir: string, lvPrefix: string): Record<string, string> {
  return Object.fromEntries(
    [...guest.files].filter(([p]) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).startsWith(lvPrefix))
      .map(([p, f]) => [p, f.content]),
  );
}

Deno.test("detectFamily() finds each family by what it runs, and names what it looked for when none", async () => {
  const cases: [string, (g: FakeGuest) => unknown][] = [
    ["systemd-networkd", () => {}],
    ["ifupdown", asIfupdownGuest],
    ["netplan", asNetplanGuest],
    ["NetworkManager", asNetworkManagerGuest],
  ];
  for (const [name, make] of cases) {
    const { guest, session } = await login();
    make(guest);
    assert.equal((await detectFamily(session)).name, name);
    assert.deepEqual(guest.log.filter((o) => o.op === "put"), [], "detection changes nothing");
    // Every service asked in one systemctl (a program start costs a booting TCG guest ~0.2 s).
    assert.deepEqual(
      guest.commands().filter((c) => c.startsWith("systemctl")),
      ["systemctl is-active NetworkManager systemd-networkd"],
    );
  }
  const { guest, session } = await login();
  guest.activeServices.clear();
  await assert.rejects(
    detectFamily(session),
    new RegExp(
      "looked for NetworkManager \\(an active NetworkManager service\\), netplan \\(/etc/netplan and the netplan " +
        "command\\), systemd-networkd \\(an active systemd-networkd service\\), ifupdown \\(/etc/network/interfaces and ifup\\)",
    ),
  );
});

Deno.test("ifupdown: a stanza of lv's own per interface in interfaces.d, brought up; again it changes nothing", async () => {
  const { guest, session } = await login();
  const state = asIfupdownGuest(guest);
  const family = await detectFamily(session);
  await configureStatic(session, [ETH1, ETH2], family.name);
  assert.equal(guest.read("/etc/network/interfaces.d/lv-525400aabb01"), ifupdownStanza(ETH1, "eth1"));
  assert.match(
    guest.read("/etc/network/interfaces.d/lv-525400aabb02")!,
    /^auto eth2\niface eth2 inet static\n {4}address 10\.9\.1\.5\/16$/m,
  );
  assert.deepEqual(Object.fromEntries(state.up), {
    lo: "127.0.0.1/8",
    eth0: "dhcp",
    eth1: "10.9.0.5/24",
    eth2: "10.9.1.5/16",
  });
  assert.equal(guest.read("/etc/network/interfaces"), IFUPDOWN_MAIN, "the box's file is untouched");

  const before = guest.commands().length;
  await configureStatic(session, [ETH1, ETH2], family.name);
  assert.deepEqual(
    guest.commands().slice(before),
    ["sudo -n ifup eth1", "sudo -n ifup eth2"],
    "no ifdown, no rewrite",
  );

  // eth2 dropped, eth1's address changed: eth2 down and its file gone, eth1 down and up with the new address.
  await configureStatic(session, [{ ...ETH1, address: "10.9.0.6" }], family.name);
  assert.equal(guest.read("/etc/network/interfaces.d/lv-525400aabb02"), undefined);
  assert.deepEqual(Object.fromEntries(state.up), { lo: "127.0.0.1/8", eth0: "dhcp", eth1: "10.9.0.6/24" });
});

Deno.test("ifupdown: an interfaces file that does not source interfaces.d is an error naming it; nothing written", async () => {
  const { guest, session } = await login();
  asIfupdownGuest(guest, "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n");
  const family = await detectFamily(session);
  await assert.rejects(
    configureStatic(session, [ETH1], family.name),
    /\/etc\/network\/interfaces does not read \/etc\/network\/interfaces\.d/,
  );
  assert.deepEqual(guest.log.filter((o) => o.op === "put"), []);
});

Deno.test("netplan: lv's own file (0600) matched by MAC, generated and applied; again it only reads", async () => {
  const { guest, session } = await login();
  const state = asNetplanGuest(guest);
  const family = await detectFamily(session);
  await configureStatic(session, [ETH1], family.name);
  assert.equal(guest.read(NETPLAN_FILE), netplanConfig([ETH1]));
  assert.equal(guest.files.get(NETPLAN_FILE)!.mode, 0o600);
  assert.deepEqual(Object.fromEntries(state.applied), { eth0: "dhcp", eth1: "10.9.0.5/24" });
  assert.deepEqual(guest.commands().filter((c) => c.startsWith("sudo -n netplan")), [
    "sudo -n netplan generate",
    "sudo -n netplan apply",
  ]);
  assert.equal(guest.read("/etc/netplan/01-box.yaml"), NETPLAN_BOX);

  const before = guest.commands().length;
  await configureStatic(session, [ETH1], family.name);
  assert.deepEqual(
    guest.commands().slice(before),
    ["sudo -n ip -o -4 addr show"],
    "the addresses in force read",
  );

  await configureStatic(session, [], family.name);
  assert.equal(guest.read(NETPLAN_FILE), undefined, "no static interface left: lv's file removed");
  assert.deepEqual(Object.fromEntries(state.applied), { eth0: "dhcp" });
});

Deno.test("netplan: a failing netplan apply puts lv's file back and leaves the box's configuration and connections", async () => {
  const { guest, session } = await login();
  const state = asNetplanGuest(guest);
  const family = await detectFamily(session);
  await configureStatic(session, [ETH1], family.name);
  const applied = Object.fromEntries(state.applied);
  state.failApply = true;
  await assert.rejects(
    configureStatic(session, [ETH1, ETH2], family.name),
    /netplan apply: exit code 1: Failed to restart systemd-networkd\.service.*\(lv's \/etc\/netplan\/90-lv\.yaml put back as it was\)/s,
  );
  assert.equal(guest.read(NETPLAN_FILE), netplanConfig([ETH1]));
  assert.deepEqual(othersUnder(guest, "/etc/netplan", "90-lv"), { "/etc/netplan/01-box.yaml": NETPLAN_BOX });
  assert.deepEqual(Object.fromEntries(state.applied), applied);
});

Deno.test("netplan: a file netplan generate rejects is put back before anything is applied", async () => {
  const { guest, session } = await login();
  const state = asNetplanGuest(guest);
  guest.files.set("/etc/netplan/02-broken.yaml", { content: "network: [\n", mode: 0o600, owner: "root" });
  const family = await detectFamily(session);
  await assert.rejects(
    configureStatic(session, [ETH1], family.name),
    /netplan generate: exit code 1: .*02-broken\.yaml/,
  );
  assert.equal(guest.read(NETPLAN_FILE), undefined);
  assert.ok(!guest.commands().includes("sudo -n netplan apply"));
  assert.deepEqual(Object.fromEntries(state.applied), { eth0: "dhcp" });
});

Deno.test("NetworkManager: a profile lv-MAC per interface bound to the MAC and brought up; others untouched", async () => {
  const { guest, session } = await login();
  const state = asNetworkManagerGuest(guest);
  const box = structuredClone(state.profiles);
  const family = await detectFamily(session);
  await configureStatic(session, [ETH1, ETH2], family.name);
  assert.deepEqual(state.profiles.slice(0, 1), box, "the box's profile is as it was, still active on eth0");
  assert.deepEqual(state.profiles.slice(1), [
    {
      name: "lv-525400aabb01",
      mac: "52:54:00:AA:BB:01",
      method: "manual",
      addresses: "10.9.0.5/24",
      device: "eth1",
    },
    {
      name: "lv-525400aabb02",
      mac: "52:54:00:AA:BB:02",
      method: "manual",
      addresses: "10.9.1.5/16",
      device: "eth2",
    },
  ]);

  // Again, with eth2 dropped and eth1 changed: eth1's profile modified, eth2's deleted, nothing added.
  await configureStatic(session, [{ ...ETH1, address: "10.9.0.6" }], family.name);
  assert.deepEqual(state.profiles.map((p) => [p.name, p.addresses, p.device]), [
    ["Wired connection 1", "", "eth0"],
    ["lv-525400aabb01", "10.9.0.6/24", "eth1"],
  ]);
  assert.ok(
    !guest.commands().some((c) => c.includes("Wired connection 1")),
    "no command names the box's profile",
  );
});

Deno.test("NetworkManager: a failing nmcli connection up is reported and leaves the other connections as they were", async () => {
  const { guest, session } = await login();
  const state = asNetworkManagerGuest(guest);
  const family = await detectFamily(session);
  await configureStatic(session, [ETH1], family.name);
  const before = structuredClone(state.profiles);
  state.failUp = true;
  await assert.rejects(
    configureStatic(session, [ETH1, ETH2], family.name),
    /nmcli connection up lv-525400aabb01: exit code 4: Error: Connection activation failed/,
  );
  assert.deepEqual(state.profiles.filter((p) => p.name !== "lv-525400aabb02"), before);
});

Deno.test("ifupdown: an ifdown that fails (the interface was down) does not stop the rest: the stale file goes", async () => {
  const { guest, session } = await login();
  const state = asIfupdownGuest(guest);
  await configureStatic(session, [ETH1, ETH2], "ifupdown");
  guest.failNext("ifdown", { code: 1, stderr: "ifdown: interface eth2 not configured\n" });
  const trips = guest.roundTrips();
  await configureStatic(session, [ETH1], "ifupdown");
  assert.equal(guest.roundTrips() - trips, 3, "the survey, the reads as root, the writes as root");
  assert.equal(guest.read("/etc/network/interfaces.d/lv-525400aabb02"), undefined);
  assert.deepEqual(guest.commands().slice(-3), [
    "sudo -n ifdown eth2",
    "sudo -n rm -f /etc/network/interfaces.d/lv-525400aabb02",
    "sudo -n ifup eth1",
  ]);
  assert.equal(state.up.get("eth1"), "10.9.0.5/24");
});
