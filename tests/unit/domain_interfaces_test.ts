import assert from "node:assert/strict";
import {
  domainInterfaces,
  generatedMac,
  managementNetwork,
  unownedNetworks,
} from "../../src/controller/domain_interfaces.ts";
import { domainResource } from "./xml_fixtures.ts";

Deno.test("managementNetwork() gives a Domain that talks SSH and declares no interface one", async (t) => {
  await t.step("default: libvirt's default network", () => {
    const dom = domainResource("web");
    assert.equal(managementNetwork(dom), "default");
    assert.deepEqual(domainInterfaces(dom), [{
      network: "default",
      mac: generatedMac("uid-web", 0),
      model: "virtio",
    }]);
    assert.deepEqual(unownedNetworks(dom, "qemu:///system"), ["default"]);
  });
  await t.step("spec.managementNetwork (or the context's defaultNetwork lv apply put there)", () => {
    const dom = domainResource("web", { managementNetwork: "mgmt" });
    assert.equal(managementNetwork(dom), "mgmt");
    assert.equal(domainInterfaces(dom)[0].network, "mgmt");
  });
  await t.step("a rootless session: QEMU's user-mode network, SSH forwarded from the given host port", () => {
    const dom = domainResource("web");
    assert.deepEqual(domainInterfaces(dom, 40022), [{
      userNet: { hostPort: 40022, guestPort: 22 },
      mac: generatedMac("uid-web", 0),
      model: "virtio",
    }]);
    assert.deepEqual(unownedNetworks(dom, "qemu:///session"), [], "no libvirt network needed");
    const declared = domainResource("web", { interfaces: [{ bridge: "br0", model: "virtio" }] });
    assert.deepEqual(
      domainInterfaces(declared, 40022).map((n) => n.bridge),
      ["br0"],
      "declared ones as given",
    );
  });
  await t.step("none opts out", () => {
    const dom = domainResource("web", { managementNetwork: "none" });
    assert.equal(managementNetwork(dom), undefined);
    assert.deepEqual(domainInterfaces(dom), []);
    assert.deepEqual(unownedNetworks(dom, "qemu:///system"), []);
  });
  await t.step("communicator none gets none", () => {
    assert.deepEqual(domainInterfaces(domainResource("web", { communicator: "none" })), []);
  });
  await t.step("declared interfaces get no management interface", () => {
    const dom = domainResource("web", { interfaces: [{ network: "lab", model: "virtio" }] });
    assert.equal(managementNetwork(dom), undefined);
    assert.deepEqual(domainInterfaces(dom).map((n) => n.network), ["lab"]);
    assert.deepEqual(
      unownedNetworks(dom, "qemu:///system"),
      [],
      "a Network lv manages is not an unowned network",
    );
  });
});

Deno.test("domainInterfaces() attaches libvirtNetwork and bridge interfaces", () => {
  const dom = domainResource("web", {
    interfaces: [
      { libvirtNetwork: "default", ip: "192.168.122.50", model: "virtio" },
      { bridge: "br0", mac: "52:54:00:AA:00:01", model: "e1000" },
      { libvirtNetwork: "default", model: "virtio" },
    ],
  });
  assert.deepEqual(domainInterfaces(dom), [
    {
      network: "default",
      bridge: undefined,
      dev: undefined,
      mode: undefined,
      mac: generatedMac("uid-web", 0),
      model: "virtio",
    },
    {
      network: undefined,
      bridge: "br0",
      dev: undefined,
      mode: undefined,
      mac: "52:54:00:aa:00:01",
      model: "e1000",
    },
    {
      network: "default",
      bridge: undefined,
      dev: undefined,
      mode: undefined,
      mac: generatedMac("uid-web", 2),
      model: "virtio",
    },
  ]);
  assert.deepEqual(unownedNetworks(dom, "qemu:///system"), ["default"]);
});
