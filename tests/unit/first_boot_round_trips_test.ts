/**
 * Round trips of a first boot per network family: the Domain controller reaching the fake guest as each
 * family, with lv's key to insert, a hostname to set and two static interfaces on a bridge (no DHCP).
 */
import assert from "node:assert/strict";
import type { AnyResource, Domain, Kind } from "../../src/api/types.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { FakeGuest } from "./fake_guest.ts";
import { attachGuest } from "./fake_guest_login.ts";
import { asIfupdownGuest, asNetplanGuest, asNetworkManagerGuest } from "./fake_guest_network.ts";
import { basicExample, converge, createAll, type Harness, mustGet, newHarness, ready } from "./harness.ts";
import { writeStatus } from "../../src/controller/object_ops.ts";

const ALL: [Kind, string][] = [
  ["Box", "tiny"],
  ["Network", "basic-net"],
  ["Volume", "web-data"],
  ["Domain", "web"],
  ["Volume", "web"],
];
const MACS = ["52:54:00:aa:bb:01", "52:54:00:aa:bb:02"];

const FAMILIES: [string, (g: FakeGuest) => unknown][] = [
  ["systemd-networkd", () => {}],
  ["ifupdown", asIfupdownGuest],
  ["netplan", asNetplanGuest],
  ["NetworkManager", asNetworkManagerGuest],
];

async function firstBoot(make: (g: FakeGuest) => unknown): Promise<{ h: Harness; guest: FakeGuest }> {
  const h = await newHarness({ defaultPool: true });
  const guest = new FakeGuest();
  make(guest);
  guest.addInterface("eth1", MACS[0]);
  guest.addInterface("eth2", MACS[1]);
  await attachGuest(h, guest);
  const all = basicExample();
  const dom = all["Domain/web"] as Domain;
  dom.spec.communicator = "ssh";
  dom.spec.interfaces.push(
    { bridge: "br-a", mac: MACS[0], ip: "10.9.0.5", prefix: 24, model: "virtio" },
    { bridge: "br-b", mac: MACS[1], ip: "10.9.1.5", prefix: 16, model: "virtio" },
  );
  await createAll(h, Object.values(all) as AnyResource[]);
  await converge(h, [["Box", "tiny"]]);
  const box = await mustGet(h, "Box", "tiny");
  assert.ok(await writeStatus(h.store, box, (s) => s.privateKey = `${h.home}/box_key`));
  await converge(h, ALL);
  const mac = parseDomainXml(h.fake.domainXml("web", { inactive: false })).interfaces[0].mac;
  h.fake.setLeases("basic-net", [{ mac, ip: "10.123.0.50" }]);
  await converge(h, ALL);
  return { h, guest };
}

Deno.test("measure", async () => {
  for (const [name, make] of FAMILIES) {
    const { h, guest } = await firstBoot(make);
    try {
      const dom = await mustGet<Domain>(h, "Domain", "web");
      const trips = guest.log.filter((o) => !o.inBatch);
      console.log(name, ready(dom)?.status, ready(dom)?.message, guest.roundTrips());
      console.log(trips.map((o) => `  ${o.op} ${o.argv.join(" | ").slice(0, 150)}`).join("\n"));
    } finally {
      await h.close();
    }
  }
});
