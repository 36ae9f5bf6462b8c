/**
 * An SSH Domain on a rootless session: its management interface is QEMU's user-mode network, and lv reaches
 * the guest at the SSH endpoint 127.0.0.1:PORT (the forwarded host port), recorded in status.guest and used
 * by lv ssh-config. The fake guest answers only on that address and port.
 */
import assert from "node:assert/strict";
import type { GuestStatus } from "../../src/api/guest_status.ts";
import { sshEndpointOf } from "../../src/api/ssh_endpoint.ts";
import type { Domain } from "../../src/api/types.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { FakeGuest } from "./fake_guest.ts";
import { attachGuest } from "./fake_guest_login.ts";
import { converge, createAll, mustGet, newHarness, passOk } from "./harness.ts";
import { domainResource } from "./xml_fixtures.ts";

Deno.test("domainReconciler on qemu:///session: SSH through the forwarded port, the endpoint in status", async () => {
  const h = await newHarness({ defaultPool: true, fake: { uri: "qemu:///session" } });
  const guest = new FakeGuest();
  try {
    const boxKey = await attachGuest(h, guest);
    const dom = domainResource("web", { driver: "qemu" });
    dom.metadata.uid = "";
    dom.spec.ssh.privateKey = boxKey;
    dom.spec.ssh.insertKey = false;
    await createAll(h, [dom]);
    await converge(h, [["Domain", "web"]]);
    const forward = parseDomainXml(h.fake.domainXml("web", { inactive: true })).interfaces[0].forward ?? "";
    const port = Number(forward.split("-")[0]);
    guest.addresses = new Set(["127.0.0.1"]);
    guest.sshPort = port;
    // The forward accepts before the guest's sshd listens: retried within the pass like a refused connect.
    guest.refuseConnects = 2;
    guest.refusedWith = "Connection lost before handshake";
    const before = guest.connects;
    await passOk(h, "Domain", "web");
    assert.equal(guest.connects - before, 3, "two dropped connects, then the login, in one pass");
    await converge(h, [["Domain", "web"]]);
    const got = await mustGet<Domain>(h, "Domain", "web");
    const status = got.status.guest as GuestStatus;
    assert.equal(status.ready, true, JSON.stringify(got.status.conditions));
    assert.deepEqual([status.address, status.port], ["127.0.0.1", port]);
    assert.deepEqual(sshEndpointOf(got), { host: "127.0.0.1", port });
    assert.equal(guest.hostname, "web", "the hostname step ran over the forwarded port");
  } finally {
    await h.close();
  }
});
