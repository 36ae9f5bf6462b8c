/**
 * A first boot per network family through the Domain controller, the fake guest acting each family: lv's key
 * to insert, a hostname to set and two static interfaces on bridges (no DHCP). Round trips counted, the
 * guest's end state (files, commands) asserted, and a failure half-way redone by the next reconcile.
 */
import assert from "node:assert/strict";
import type { GuestStatus } from "../../src/api/guest_status.ts";
import type { AnyResource, Domain } from "../../src/api/types.ts";
import { writeStatus } from "../../src/controller/object_ops.ts";
import { ifupdownStanza } from "../../src/guest/network/ifupdown.ts";
import { NETPLAN_FILE, netplanConfig } from "../../src/guest/network/netplan.ts";
import { networkdConfig } from "../../src/guest/network/networkd.ts";
import type { StaticInterface } from "../../src/guest/network/static_interfaces.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { FakeGuest } from "./fake_guest.ts";
import { attachGuest } from "./fake_guest_login.ts";
import { asIfupdownGuest, asNetplanGuest, asNetworkManagerGuest } from "./fake_guest_network.ts";
import {
  BASIC_OBJECTS,
  basicExample,
  converge,
  createAll,
  type Harness,
  mustGet,
  newHarness,
  pass,
  ready,
} from "./harness.ts";

const ALL = BASIC_OBJECTS;
const ETH1: StaticInterface = { mac: "52:54:00:aa:bb:01", address: "10.9.0.5", prefix: 24 };
const ETH2: StaticInterface = { mac: "52:54:00:aa:bb:02", address: "10.9.1.5", prefix: 16 };

/**
 * basic.yaml's Domain with SSH, the Box's key to replace, and ETH1 and ETH2 on bridges; the guest made a
 * family's by `make` (returning its state), `before` changing it before lv reaches it. Converged up to the
 * guest's address, then one pass of the Domain: the first boot (done, or failed).
 */
async function firstBoot<S>(
  make: (g: FakeGuest) => S,
  fn: (h: Harness, guest: FakeGuest, state: S) => Promise<void>,
  before?: (guest: FakeGuest, state: S) => void,
): Promise<void> {
  const h = await newHarness({ defaultPool: true });
  try {
    const guest = new FakeGuest();
    const state = make(guest);
    guest.addInterface("eth1", ETH1.mac);
    guest.addInterface("eth2", ETH2.mac);
    before?.(guest, state);
    await attachGuest(h, guest);
    const all = basicExample();
    const dom = all["Domain/web"] as Domain;
    dom.spec.communicator = "ssh";
    dom.spec.interfaces.push(
      { bridge: "br-a", mac: ETH1.mac, ip: ETH1.address, prefix: ETH1.prefix, model: "virtio" },
      { bridge: "br-b", mac: ETH2.mac, ip: ETH2.address, prefix: ETH2.prefix, model: "virtio" },
    );
    await createAll(h, Object.values(all) as AnyResource[]);
    await converge(h, [["Box", "tiny"]]);
    assert.ok(
      await writeStatus(h.store, await mustGet(h, "Box", "tiny"), (s) => s.privateKey = `${h.home}/box_key`),
    );
    await converge(h, ALL);
    const mac = parseDomainXml(h.fake.domainXml("web", { inactive: false })).interfaces[0].mac;
    h.fake.setLeases("basic-net", [{ mac, ip: "10.123.0.50" }]);
    await pass(h, "Domain", "web");
    await fn(h, guest, state);
  } finally {
    await h.close();
  }
}

/** The round trips so far, as "op: what it did" (a batch: its operations), for messages. */
const tripsOf = (guest: FakeGuest) =>
  guest.log.filter((o) => !o.inBatch).map((o) => `${o.op}: ${o.argv.join(" | ")}`);

/** The commands run as root, "sudo -n" taken off, in order. */
const rootCommands = (guest: FakeGuest) =>
  guest.commands().filter((c) => c.startsWith("sudo -n ")).map((c) => c.slice(8));

/** Every file under `dir` with its mode, owner and content. */
const filesUnder = (guest: FakeGuest, dir: string) =>
  Object.fromEntries(
    [...guest.files].filter(([p]) => p.startsWith(`${dir}/`)).map((
      [p, f],
    ) => [p, [f.mode, f.owner, f.content]]),
  );

async function readyDomain(h: Harness): Promise<Domain> {
  const dom = await mustGet<Domain>(h, "Domain", "web");
  assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
  return dom;
}

/**
 * Four round trips whatever the family: the facts (with the family's survey) and lv's key added, the hostname
 * written with the family's reads (sudo), the box's key removed once lv's is proven, the family's writes (sudo).
 */
function assertFourTrips(guest: FakeGuest): void {
  const trips = tripsOf(guest);
  assert.equal(trips.length, 4, trips.join("\n"));
  assert.deepEqual(trips.map((t) => t.split(":")[0]).sort(), ["batch", "batch", "batch", "put"]);
  assert.match(trips.at(-1)!, /^batch: /, "the family's writes last, once lv's key is in");
  const sudoBatches = trips.filter((t) => /^batch: write \/etc\/hostname/.test(t));
  assert.equal(sudoBatches.length, 1, "the hostname written in one batch with the family's reads");
  assert.deepEqual(guest.logins, ["vagrant", "vagrant"], "the session, and the login proving lv's key");
}

const NM_ADD = (name: string, ifc: StaticInterface) =>
  `nmcli connection add type ethernet con-name ${name} ifname * 802-3-ethernet.mac-address ${ifc.mac.toUpperCase()} ` +
  `ipv4.method manual ipv4.addresses ${ifc.address}/${ifc.prefix} ipv6.method ignore connection.autoconnect yes ` +
  "connection.autoconnect-priority 100";

Deno.test("first boot, systemd-networkd: four round trips; lv's .network files, reload, the two reconfigured", async () => {
  await firstBoot(() => {}, async (h, guest) => {
    const dom = await readyDomain(h);
    assertFourTrips(guest);
    assert.equal((dom.status.guest as GuestStatus).os, "systemd-networkd");
    assert.equal(guest.hostname, "web");
    assert.deepEqual(rootCommands(guest), [
      "hostname web",
      "networkctl reload",
      "networkctl reconfigure eth1",
      "networkctl reconfigure eth2",
    ]);
    assert.deepEqual(filesUnder(guest, "/etc/systemd/network"), {
      "/etc/systemd/network/05-lv-525400aabb01.network": [0o644, "root", networkdConfig(ETH1)],
      "/etc/systemd/network/05-lv-525400aabb02.network": [0o644, "root", networkdConfig(ETH2)],
    });
  });
});

Deno.test("first boot, ifupdown: four round trips; a stanza per interface, each brought up", async () => {
  await firstBoot(asIfupdownGuest, async (h, guest, state) => {
    await readyDomain(h);
    assertFourTrips(guest);
    assert.deepEqual(rootCommands(guest), ["hostname web", "ifup eth1", "ifup eth2"]);
    assert.deepEqual(filesUnder(guest, "/etc/network/interfaces.d"), {
      "/etc/network/interfaces.d/lv-525400aabb01": [0o644, "root", ifupdownStanza(ETH1, "eth1")],
      "/etc/network/interfaces.d/lv-525400aabb02": [0o644, "root", ifupdownStanza(ETH2, "eth2")],
    });
    assert.equal(state.up.get("eth1"), "10.9.0.5/24");
    assert.equal(state.up.get("eth2"), "10.9.1.5/16");
  });
});

Deno.test("first boot, netplan: four round trips; lv's file (0600), generated and applied", async () => {
  await firstBoot(asNetplanGuest, async (h, guest, state) => {
    await readyDomain(h);
    assertFourTrips(guest);
    assert.deepEqual(rootCommands(guest), [
      "hostname web",
      "ip -o -4 addr show",
      "netplan generate",
      "netplan apply",
    ]);
    assert.deepEqual(filesUnder(guest, "/etc/netplan")[NETPLAN_FILE], [
      0o600,
      "root",
      netplanConfig([ETH1, ETH2]),
    ]);
    assert.deepEqual(Object.fromEntries(state.applied), {
      eth0: "dhcp",
      eth1: "10.9.0.5/24",
      eth2: "10.9.1.5/16",
    });
  });
});

Deno.test("first boot, NetworkManager: four round trips; a profile per interface added and brought up", async () => {
  await firstBoot(asNetworkManagerGuest, async (h, guest, state) => {
    await readyDomain(h);
    assertFourTrips(guest);
    assert.deepEqual(rootCommands(guest), [
      "hostname web",
      "nmcli -g NAME connection show",
      NM_ADD("lv-525400aabb01", ETH1),
      "nmcli connection up lv-525400aabb01",
      NM_ADD("lv-525400aabb02", ETH2),
      "nmcli connection up lv-525400aabb02",
    ]);
    assert.deepEqual(state.profiles.map((p) => [p.name, p.addresses, p.device]), [
      ["Wired connection 1", "", "eth0"],
      ["lv-525400aabb01", "10.9.0.5/24", "eth1"],
      ["lv-525400aabb02", "10.9.1.5/16", "eth2"],
    ]);
  });
});

Deno.test("first boot, ifupdown: an ifup failing half-way names the step; the next reconcile finishes the job", async () => {
  await firstBoot(asIfupdownGuest, async (h, guest, state) => {
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestSetupFailed");
    assert.match(ready(dom)!.message, /^ifupdown: ifup eth1: exit code 1: ifup: no link on eth1/);
    assert.equal(guest.hostname, "web", "the hostname, in the batch before, is set");
    assert.ok(guest.read("/etc/network/interfaces.d/lv-525400aabb01"), "eth1's stanza written");
    assert.equal(
      guest.read("/etc/network/interfaces.d/lv-525400aabb02"),
      undefined,
      "the batch stopped there",
    );
    assert.equal((dom.status.guest as GuestStatus).staticConfig, undefined, "not recorded as configured");

    await converge(h, ALL);
    await readyDomain(h);
    assert.deepEqual(filesUnder(guest, "/etc/network/interfaces.d"), {
      "/etc/network/interfaces.d/lv-525400aabb01": [0o644, "root", ifupdownStanza(ETH1, "eth1")],
      "/etc/network/interfaces.d/lv-525400aabb02": [0o644, "root", ifupdownStanza(ETH2, "eth2")],
    });
    assert.equal(state.up.get("eth1"), "10.9.0.5/24");
    assert.equal(state.up.get("eth2"), "10.9.1.5/16");
  }, (guest) => guest.failNext("ifup", { code: 1, stderr: "ifup: no link on eth1\n" }));
});

Deno.test("first boot, NetworkManager: nmcli up failing names the step; the next reconcile modifies, adds, brings up", async () => {
  await firstBoot(asNetworkManagerGuest, async (h, guest, state) => {
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestSetupFailed");
    assert.match(
      ready(dom)!.message,
      /^NetworkManager: nmcli connection up lv-525400aabb01: exit code 4: Error: Connection activation failed/,
    );
    assert.deepEqual(state.profiles.map((p) => p.name), ["Wired connection 1", "lv-525400aabb01"]);

    state.failUp = false;
    const mark = guest.commands().length;
    await converge(h, ALL);
    await readyDomain(h);
    assert.deepEqual(
      guest.commands().slice(mark).filter((c) => c.startsWith("sudo -n nmcli connection")).map((c) =>
        c.split(" ").slice(4, 6).join(" ")
      ),
      ["modify lv-525400aabb01", "up lv-525400aabb01", "add type", "up lv-525400aabb02"],
    );
    assert.deepEqual(state.profiles.map((p) => [p.name, p.addresses, p.device]), [
      ["Wired connection 1", "", "eth0"],
      ["lv-525400aabb01", "10.9.0.5/24", "eth1"],
      ["lv-525400aabb02", "10.9.1.5/16", "eth2"],
    ]);
  }, (_guest, state) => state.failUp = true);
});

Deno.test("first boot, netplan: a failing apply names the step, puts lv's file back; the next reconcile applies", async () => {
  await firstBoot(asNetplanGuest, async (h, guest, state) => {
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestSetupFailed");
    assert.match(ready(dom)!.message, /^netplan: netplan apply: exit code 1: .*put back as it was/s);
    assert.equal(guest.read(NETPLAN_FILE), undefined, "lv's file back as it was: none");
    assert.deepEqual(Object.fromEntries(state.applied), { eth0: "dhcp" });

    state.failApply = false;
    await converge(h, ALL);
    await readyDomain(h);
    assert.equal(guest.read(NETPLAN_FILE), netplanConfig([ETH1, ETH2]));
    assert.equal(state.applied.get("eth2"), "10.9.1.5/16");
  }, (_guest, state) => state.failApply = true);
});

Deno.test("netplan: lv's file written but never applied (a pass cut between the two) is applied on the next reconcile", async () => {
  await firstBoot(
    asNetplanGuest,
    async (h, guest, state) => {
      await readyDomain(h);
      assert.equal(guest.read(NETPLAN_FILE), netplanConfig([ETH1, ETH2]));
      assert.equal(state.applied.get("eth1"), "10.9.0.5/24", "applied, not left for the next reboot");
      assert.equal(state.applied.get("eth2"), "10.9.1.5/16");
    },
    (guest) =>
      guest.files.set(NETPLAN_FILE, { content: netplanConfig([ETH1, ETH2]), mode: 0o600, owner: "root" }),
  );
});

Deno.test("first boot, a guest running no family lv knows: the hostname set, the failure names what was looked for", async () => {
  await firstBoot(() => {}, async (h, guest) => {
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestSetupFailed");
    assert.match(
      ready(dom)!.message,
      /^the guest runs none of the network configurations lv knows; looked for/,
    );
    assert.equal((dom.status.guest as GuestStatus).os, "unknown");
    assert.equal(guest.hostname, "web");
  }, (guest) => guest.activeServices.clear());
});

Deno.test("the next boot, family known: its survey, reads and writes only (netplan: a read when nothing changed)", async () => {
  const cases: [string, (g: FakeGuest) => unknown, string[]][] = [
    ["systemd-networkd", () => {}, ["list", "read", "write"]],
    ["ifupdown", asIfupdownGuest, ["list", "read", "ifup"]],
    ["netplan", asNetplanGuest, ["read"]],
    ["NetworkManager", asNetworkManagerGuest, ["nmcli", "nmcli"]],
  ];
  for (const [name, make, trips] of cases) {
    await firstBoot(make, async (h, guest) => {
      await readyDomain(h);
      h.fake.setDomainState("web", "shut off", "destroyed");
      await converge(h, ALL);
      const mark = guest.log.length;
      await converge(h, ALL);
      assert.equal(guest.log.length, mark, `${name}: a converged guest costs no round trip`);
      const dom = await readyDomain(h);
      assert.equal((dom.status.guest as GuestStatus).os, name);
      const boot = tripsOf(guest).slice(4); // after the first boot's four
      assert.deepEqual(
        boot.map((t) => t.split(": ")[1].split(" ")[0]),
        trips,
        `${name}:\n${boot.join("\n")}`,
      );
    });
  }
});
