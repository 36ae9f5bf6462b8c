import assert from "node:assert/strict";
import type { Network, NetworkSpec } from "../../src/api/types.ts";
import {
  networkDiff,
  networkStateFromSpec,
  networkXml,
  type NetworkXmlState,
  parseNetworkXml,
} from "../../src/libvirt/xml/network_xml.ts";
import { XmlParseError } from "../../src/libvirt/xml/parse_xml.ts";
import { assertLibvirtValid, HOSTILE, networkResource, virshTestDriver } from "./xml_fixtures.ts";

const HOSTS = [
  { mac: "52:54:00:aa:bb:01", ip: "10.20.30.11", name: "web" },
  { mac: "52:54:00:aa:bb:02", ip: "10.20.30.12" },
];

const CASES: [string, Partial<NetworkSpec>][] = [
  ["nat with dhcp hosts", {
    dhcp: { enabled: true, range: { start: "10.20.30.100", end: "10.20.30.200" }, hosts: HOSTS },
  }],
  ["nat through a forward device", { forwardDevice: "eth0" }],
  ["route with a bridge name", { mode: "route", forwardDevice: "eth1", bridge: "lvbr0" }],
  ["isolated without dhcp", { mode: "isolated", dhcp: { enabled: false, hosts: [] } }],
  ["isolated with dhcp hosts only", { mode: "isolated", dhcp: { enabled: true, hosts: HOSTS } }],
  ["dns domain name", {
    domainName: "lv.test",
    ipv4: { address: "192.168.121.1", prefix: 16 },
    dhcp: { enabled: true, range: { start: "192.168.121.2", end: "192.168.121.254" }, hosts: [] },
  }],
];

/** The fields a spec determines, in parseNetworkXml()'s shape. */
function expected(net: Network): NetworkXmlState {
  const s = net.spec;
  const want: NetworkXmlState = {
    name: net.metadata.name,
    mode: s.mode,
    ipv4: s.ipv4,
    dhcp: s.dhcp.enabled ? { enabled: true, hosts: s.dhcp.hosts } : { enabled: false, hosts: [] },
    owner: {
      uid: net.metadata.uid,
      kind: "Network",
      name: net.metadata.name,
      namespace: "default",
      generation: net.metadata.generation,
    },
  };
  if (s.dhcp.enabled && s.dhcp.range) want.dhcp.range = s.dhcp.range;
  if (s.bridge) want.bridge = s.bridge;
  if (s.forwardDevice) want.forwardDevice = s.forwardDevice;
  if (s.domainName) want.domainName = s.domainName;
  return want;
}

Deno.test("networkXml() renders every mode valid for libvirt's schema and parses back", async (t) => {
  for (const [name, spec] of CASES) {
    await t.step(name, async () => {
      const net = networkResource("priv", spec);
      const xml = networkXml(net);
      await assertLibvirtValid(xml, "network");
      assert.deepEqual(parseNetworkXml(xml), expected(net));
    });
  }
});

Deno.test("networkXml() renders nat with dhcp hosts", () => {
  const net = networkResource("priv", { ...CASES[0][1], domainName: "lv.test" }, {
    uid: "u1",
    generation: 2,
  });
  assert.equal(
    networkXml(net),
    `<network>
  <name>priv</name>
  <metadata>
    <lv:owner xmlns:lv="https://lv.dev/xmlns/libvirt/1" uid="u1" kind="Network" name="priv" namespace="default" generation="2"/>
  </metadata>
  <forward mode="nat"/>
  <bridge stp="on" delay="0"/>
  <domain name="lv.test" localOnly="yes"/>
  <ip address="10.20.30.1" prefix="24">
    <dhcp>
      <range start="10.20.30.100" end="10.20.30.200"/>
      <host mac="52:54:00:aa:bb:01" name="web" ip="10.20.30.11"/>
      <host mac="52:54:00:aa:bb:02" ip="10.20.30.12"/>
    </dhcp>
  </ip>
</network>
`,
  );
});

Deno.test("networkXml() renders isolated without a forward element", () => {
  const xml = networkXml(networkResource("iso", { mode: "isolated", forwardDevice: "eth0" }));
  assert.doesNotMatch(xml, /<forward/);
});

Deno.test("networkXml() includes a uuid when redefining", () => {
  const uuid = "0b6b3c6a-7b1e-4a36-9a57-2f7c1f0e8d11";
  assert.equal(parseNetworkXml(networkXml(networkResource("priv"), { uuid })).uuid, uuid);
});

Deno.test("networkXml() is accepted and echoed by libvirt, with no drift", async (t) => {
  for (const [name, spec] of CASES) {
    await t.step(name, async () => {
      const net = networkResource("priv", spec);
      const xml = networkXml(net);
      const [, dumped] = await virshTestDriver(xml, [["net-define", "FILE"], ["net-dumpxml", "priv"]]);
      const got = parseNetworkXml(dumped);
      assert.match(got.uuid ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual(networkDiff(networkStateFromSpec(net), got), []);
      assert.deepEqual({ ...got, uuid: undefined }, { ...expected(net), uuid: undefined });
    });
  }
});

Deno.test("networkXml() escapes hostile values", async () => {
  const name = `${HOSTILE} net`;
  const net = networkResource(name, {}, { uid: HOSTILE });
  const xml = networkXml(net);
  await assertLibvirtValid(xml, "network");
  const got = parseNetworkXml(xml);
  assert.equal(got.name, name);
  assert.equal(got.owner?.uid, HOSTILE);
  const uuid = crypto.randomUUID();
  const [, dumped] = await virshTestDriver(networkXml(net, { uuid }), [["net-define", "FILE"], [
    "net-dumpxml",
    uuid,
  ]]);
  assert.deepEqual(networkDiff(networkStateFromSpec(net), parseNetworkXml(dumped)), []);
});

Deno.test("networkXml() refuses DHCP host names libvirt would write back unescaped", () => {
  // libvirt 9.0 prints <host name='a<b>&c"d'e]]>f'/> as is: a definition it could not read again.
  for (const name of [HOSTILE, "", "-x", "a b"]) {
    const net = networkResource("priv", {
      dhcp: { enabled: true, hosts: [{ mac: "52:54:00:aa:bb:01", ip: "10.20.30.11", name }] },
    });
    assert.throws(() => networkXml(net), /spec\.dhcp\.hosts\[0\]\.name: must be a host name/);
  }
});

Deno.test("parseNetworkXml() reads a running network as libvirt prints it", () => {
  const got = parseNetworkXml(`<network connections='2'>
  <name>vagrant-libvirt</name>
  <uuid>d2ec6ca0-3dc5-4e4b-9a0b-3e5f1d3f0b8e</uuid>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr1' stp='on' delay='0'/>
  <mac address='52:54:00:12:34:56'/>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
  <ip address='192.168.121.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.121.1' end='192.168.121.254'/>
      <host mac='52:54:00:AA:BB:CC' ip='192.168.121.10'/>
    </dhcp>
  </ip>
</network>`);
  assert.deepEqual(got, {
    name: "vagrant-libvirt",
    uuid: "d2ec6ca0-3dc5-4e4b-9a0b-3e5f1d3f0b8e",
    mode: "nat",
    bridge: "virbr1",
    ipv4: { address: "192.168.121.1", prefix: 24 },
    dhcp: {
      enabled: true,
      range: { start: "192.168.121.1", end: "192.168.121.254" },
      hosts: [{ mac: "52:54:00:AA:BB:CC", ip: "192.168.121.10" }],
    },
  });
});

Deno.test("parseNetworkXml() reads other forward modes and rejects non-networks", () => {
  assert.equal(parseNetworkXml(`<network><name>b</name><forward mode='bridge'/></network>`).mode, "bridge");
  assert.equal(parseNetworkXml(`<network><name>b</name><forward/></network>`).mode, "nat");
  assert.throws(
    () => parseNetworkXml(`<network><name>b</name><forward mode='warp'/></network>`),
    XmlParseError,
  );
  assert.throws(() => parseNetworkXml(`<domain/>`), XmlParseError);
  assert.throws(
    () => parseNetworkXml(`<network><ip address='10.0.0.1' netmask='255.0.255.0'/></network>`),
    XmlParseError,
  );
});

Deno.test("networkDiff() lists the fields that drifted", async (t) => {
  const net = networkResource("priv", {
    dhcp: { enabled: true, range: { start: "10.20.30.100", end: "10.20.30.200" }, hosts: HOSTS },
  });
  const want = networkStateFromSpec(net);
  const cases: [string, (got: NetworkXmlState) => void, string[]][] = [
    ["nothing", () => {}, []],
    ["uuid and generation are ignored", (g) => {
      g.uuid = "x";
      g.owner = { ...g.owner!, generation: 99 };
    }, []],
    ["a bridge libvirt picked", (g) => g.bridge = "virbr7", []],
    ["mode", (g) => g.mode = "route", ["mode"]],
    ["forward device", (g) => g.forwardDevice = "eth9", ["forwardDevice"]],
    ["prefix", (g) => g.ipv4 = { address: "10.20.30.1", prefix: 16 }, ["ipv4.prefix"]],
    ["no ip", (g) => delete g.ipv4, ["ipv4"]],
    ["dhcp off", (g) => g.dhcp = { enabled: false, hosts: [] }, ["dhcp.enabled"]],
    ["range end", (g) => g.dhcp.range = { start: "10.20.30.100", end: "10.20.30.150" }, ["dhcp.range.end"]],
    ["host ip", (g) => g.dhcp.hosts[1] = { ...g.dhcp.hosts[1], ip: "10.20.30.99" }, [
      "dhcp.hosts[52:54:00:aa:bb:02].ip",
    ]],
    ["host order and MAC case do not matter", (g) => {
      g.dhcp.hosts = [{ ...g.dhcp.hosts[1], mac: "52:54:00:AA:BB:02" }, g.dhcp.hosts[0]];
    }, []],
    ["extra host", (g) => g.dhcp.hosts.push({ mac: "52:54:00:aa:bb:03", ip: "10.20.30.13" }), [
      "dhcp.hosts[52:54:00:aa:bb:03]",
    ]],
    ["owner missing", (g) => delete g.owner, ["owner"]],
    ["owner another uid", (g) => g.owner = { ...g.owner!, uid: "someone-else" }, ["owner.uid"]],
  ];
  for (const [name, change, paths] of cases) {
    await t.step(name, () => {
      const got = structuredClone(want);
      change(got);
      assert.deepEqual(networkDiff(want, got), paths);
    });
  }
  await t.step("a bridge the spec names", () => {
    const named = networkStateFromSpec(networkResource("priv", { bridge: "lvbr0" }));
    assert.deepEqual(networkDiff(named, { ...named, bridge: "virbr0" }), ["bridge"]);
  });
});
