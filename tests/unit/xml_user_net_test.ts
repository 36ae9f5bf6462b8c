/**
 * The user-mode management NIC of a rootless session (user_net_xml.ts): `<qemu:commandline>` valid for
 * libvirt's schema, at a root-bus slot per machine type, read back for drift, bad values refused.
 */
import assert from "node:assert/strict";
import {
  domainDiff,
  domainStateFromSpec,
  domainXml,
  parseDomainXml,
} from "../../src/libvirt/xml/domain_xml.ts";
import { parseUserNet, userNetElement } from "../../src/libvirt/xml/user_net_xml.ts";
import { renderXml } from "../../src/libvirt/xml/escape.ts";
import { parseXml } from "../../src/libvirt/xml/parse_xml.ts";
import { userNetPort } from "../../src/controller/domain/user_net_port.ts";
import { assertLibvirtValid, domainResource } from "./xml_fixtures.ts";

const MAC = "52:54:00:aa:bb:01";
const USER_NIC = { userNet: { hostPort: 40022, guestPort: 22 }, mac: MAC, model: "virtio" };
const DISK = {
  path: "/home/u/.local/share/lv/images/web",
  format: "qcow2",
  device: "vda",
  bus: "virtio",
} as const;

Deno.test("a user-mode NIC with SSH forwarded: valid domain XML per machine type, read back", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["pc", "pc", /bus=pci\.0,addr=0x1f/],
    ["q35", "q35", /bus=pcie\.0,addr=0x1c/],
    ["a versioned q35", "pc-q35-7.2", /bus=pcie\.0,addr=0x1c/],
  ];
  for (const [name, machineType, slot] of cases) {
    await t.step(name, async () => {
      const dom = domainResource("web", { machineType });
      const opts = {
        driver: "qemu" as const,
        disks: [{ ...DISK, cache: "none" as const }],
        interfaces: [USER_NIC],
      };
      const xml = domainXml(dom, opts);
      await assertLibvirtValid(xml, "domain");
      assert.match(
        xml,
        /<domain type="qemu" xmlns:qemu="http:\/\/libvirt\.org\/schemas\/domain\/qemu\/1\.0">/,
      );
      assert.match(xml, /<qemu:arg value="user,id=lvusernet0,hostfwd=tcp:127\.0\.0\.1:40022-:22"\/>/);
      assert.match(xml, new RegExp(`virtio-net-pci,netdev=lvusernet0,mac=${MAC},${slot.source}`));
      assert.doesNotMatch(xml, /<interface/, "no libvirt <interface>: QEMU's own netdev");
      const state = parseDomainXml(xml);
      assert.deepEqual(state.interfaces, [{
        type: "user",
        mac: MAC,
        model: "virtio",
        linkState: "up",
        forward: "40022-22",
      }]);
      assert.deepEqual(domainDiff(domainStateFromSpec(dom, opts), state), []);
      const moved = { ...opts, interfaces: [{ ...USER_NIC, userNet: { hostPort: 40023, guestPort: 22 } }] };
      assert.deepEqual(domainDiff(domainStateFromSpec(dom, moved), state), [`interfaces[${MAC}].forward`]);
    });
  }
});

Deno.test("parseUserNet() reads what libvirt echoes and ignores other command lines", () => {
  const echoed = `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>w</name>
  <qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=lvusernet0,hostfwd=tcp:127.0.0.1:41000-:2222'/>
  <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=lvusernet0,mac=52:54:00:AA:BB:01,bus=pci.0,addr=0x1f'/>
  </qemu:commandline></domain>`;
  assert.deepEqual(parseUserNet(parseXml(echoed)), { mac: MAC, hostPort: 41000, guestPort: 2222 });
  const other = `<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:commandline>
  <qemu:arg value='-netdev'/><qemu:arg value='user,id=mine,hostfwd=tcp::2222-:22'/></qemu:commandline></domain>`;
  assert.equal(parseUserNet(parseXml(other)), undefined);
  assert.equal(parseUserNet(parseXml("<domain/>")), undefined);
});

Deno.test("userNetElement() refuses what cannot be a port or a MAC (nothing unescaped reaches QEMU)", () => {
  assert.throws(
    () => userNetElement({ mac: MAC, hostPort: 0, guestPort: 22 }, "pc"),
    /hostPort must be a TCP port/,
  );
  assert.throws(() => userNetElement({ mac: MAC, hostPort: 2222, guestPort: 70000 }, "pc"), /guestPort/);
  assert.throws(
    () => userNetElement({ mac: "52:54:00:aa:bb:01,x=1", hostPort: 2222, guestPort: 22 }, "pc"),
    /MAC/,
  );
  assert.match(
    renderXml(userNetElement({ mac: MAC, hostPort: 2222, guestPort: 22 }, "pc")),
    /^<qemu:commandline>/,
  );
  const two = {
    driver: "qemu" as const,
    disks: [],
    interfaces: [USER_NIC, { ...USER_NIC, mac: "52:54:00:aa:bb:02" }],
  };
  assert.throws(() => domainXml(domainResource("web"), two), /at most one userNet/);
});

Deno.test("userNetPort(): a session's management interface keeps its port; otherwise none", () => {
  const dom = domainResource("web");
  const pick = () => 45000;
  assert.equal(userNetPort(dom, "qemu:///system", undefined, pick), undefined, "system: libvirt's network");
  assert.equal(userNetPort(dom, "qemu:///session", undefined, pick), 45000, "new: a free port");
  const defined = parseDomainXml(domainXml(dom, { driver: "qemu", disks: [], interfaces: [USER_NIC] }));
  assert.equal(userNetPort(dom, "qemu:///session", defined, pick), 40022, "defined: the same port again");
  const none = domainResource("web", { communicator: "none" });
  assert.equal(userNetPort(none, "qemu:///session", undefined, pick), undefined, "no SSH, no interface");
});
