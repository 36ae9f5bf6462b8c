import assert from "node:assert/strict";
import { XmlParseError } from "../../src/libvirt/xml/parse_xml.ts";
import { parsePoolXml, poolXml } from "../../src/libvirt/xml/pool_xml.ts";
import { parseVolumeXml, volumeXml, type VolumeXmlInput } from "../../src/libvirt/xml/volume_xml.ts";
import { assertLibvirtValid, HOSTILE, virshTestDriver } from "./xml_fixtures.ts";

const GiB = 2 ** 30;

const CASES: [string, VolumeXmlInput][] = [
  ["blank qcow2", { name: "data.qcow2", capacityBytes: 10 * GiB, format: "qcow2" }],
  ["blank raw, preallocated", {
    name: "data.img",
    capacityBytes: 1 * GiB,
    format: "raw",
    allocationBytes: 1 * GiB,
  }],
  ["overlay on a box", {
    name: "web.qcow2",
    capacityBytes: 40 * GiB,
    format: "qcow2",
    backingPath: "/default-pool/box.img",
    backingFormat: "qcow2",
  }],
  ["overlay on a raw box", {
    name: "web2.qcow2",
    capacityBytes: 4 * GiB,
    format: "qcow2",
    backingPath: "/default-pool/raw.img",
    backingFormat: "raw",
  }],
  ["hostile name", {
    name: `${HOSTILE} disk.qcow2`,
    capacityBytes: 1,
    format: "qcow2",
    backingPath: `/default-pool/${HOSTILE}`,
  }],
];

Deno.test("volumeXml() renders volumes valid for libvirt's schema that parse back", async (t) => {
  for (const [name, input] of CASES) {
    await t.step(name, async () => {
      const xml = volumeXml(input);
      await assertLibvirtValid(xml, "storagevol");
      const got = parseVolumeXml(xml);
      assert.equal(got.name, input.name);
      assert.equal(got.capacity, input.capacityBytes);
      assert.equal(got.allocation, input.allocationBytes ?? 0);
      assert.equal(got.format, input.format);
      assert.deepEqual(
        got.backingStore,
        input.backingPath === undefined
          ? undefined
          : { path: input.backingPath, format: input.backingFormat ?? "qcow2" },
      );
    });
  }
});

Deno.test("volumeXml() renders a sparse copy-on-write overlay", () => {
  assert.equal(
    volumeXml({
      name: "web.qcow2",
      capacityBytes: 4 * GiB,
      format: "qcow2",
      backingPath: "/var/lib/libvirt/images/box.img",
    }),
    `<volume type="file">
  <name>web.qcow2</name>
  <capacity unit="bytes">4294967296</capacity>
  <allocation unit="bytes">0</allocation>
  <target>
    <format type="qcow2"/>
  </target>
  <backingStore>
    <path>/var/lib/libvirt/images/box.img</path>
    <format type="qcow2"/>
  </backingStore>
</volume>
`,
  );
});

Deno.test("volumeXml() is accepted and echoed by libvirt", async (t) => {
  for (const [name, input] of CASES) {
    await t.step(name, async () => {
      const [, dumped] = await virshTestDriver(volumeXml(input), [
        ["vol-create", "default-pool", "FILE"],
        ["vol-dumpxml", "--pool", "default-pool", input.name],
      ]);
      const got = parseVolumeXml(dumped);
      const path = `/default-pool/${input.name}`;
      assert.deepEqual(got, {
        name: input.name,
        key: path,
        path,
        capacity: input.capacityBytes,
        allocation: input.allocationBytes ?? 0,
        format: input.format,
        ...(input.backingPath === undefined
          ? {}
          : { backingStore: { path: input.backingPath, format: input.backingFormat ?? "qcow2" } }),
      });
    });
  }
});

Deno.test("volumeXml() refuses sizes that are not whole bytes", () => {
  for (const capacityBytes of [-1, 1.5, Number.NaN, 2 ** 60]) {
    assert.throws(() => volumeXml({ name: "x", capacityBytes, format: "raw" }), RangeError);
  }
});

Deno.test("parseVolumeXml() reads scaled units and rejects non-volumes", () => {
  const got = parseVolumeXml(`<volume type='file'>
  <name>box.img</name>
  <key>/var/lib/libvirt/images/box.img</key>
  <capacity unit='G'>4</capacity>
  <allocation unit='KiB'>102400</allocation>
  <physical unit='bytes'>104857600</physical>
  <target>
    <path>/var/lib/libvirt/images/box.img</path>
    <format type='qcow2'/>
    <permissions><mode>0600</mode><owner>0</owner><group>0</group></permissions>
    <timestamps><atime>1.5</atime></timestamps>
    <compat>1.1</compat>
  </target>
</volume>`);
  assert.deepEqual(got, {
    name: "box.img",
    key: "/var/lib/libvirt/images/box.img",
    path: "/var/lib/libvirt/images/box.img",
    capacity: 4 * GiB,
    allocation: 100 * 2 ** 20,
    format: "qcow2",
  });
  assert.throws(() => parseVolumeXml("<pool/>"), XmlParseError);
});

Deno.test("poolXml() renders a dir pool that libvirt accepts and echoes", async (t) => {
  for (const [name, path] of [["default", "/var/lib/libvirt/images"], [HOSTILE, `/tmp/${HOSTILE} pool`]]) {
    await t.step(name, async () => {
      const xml = poolXml({ name, path });
      await assertLibvirtValid(xml, "storagepool");
      assert.deepEqual(parsePoolXml(xml), { name, type: "dir", path });
      const [, dumped] = await virshTestDriver(xml, [["pool-define", "FILE"], ["pool-dumpxml", name]]);
      const got = parsePoolXml(dumped);
      assert.equal(got.name, name);
      assert.equal(got.type, "dir");
      assert.equal(got.path, path);
      assert.match(got.uuid ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(typeof got.capacity, "number");
    });
  }
});

Deno.test("parsePoolXml() rejects non-pools", () => {
  assert.throws(() => parsePoolXml("<volume/>"), XmlParseError);
});
