import assert from "node:assert/strict";
import {
  LV_XMLNS,
  lvMetadata,
  type LvOwner,
  ownerFor,
  ownerOf,
  ownerXml,
} from "../../src/libvirt/xml/lv_metadata.ts";
import { el, renderXml } from "../../src/libvirt/xml/escape.ts";
import { XmlParseError } from "../../src/libvirt/xml/parse_xml.ts";
import { domainResource, HOSTILE } from "./xml_fixtures.ts";

const OWNER: LvOwner = { uid: "6f1c-uid", kind: "Domain", name: "web", namespace: "default", generation: 3 };

Deno.test("ownerFor() takes uid, kind, name, namespace and generation from the resource", () => {
  const dom = domainResource("web", {}, { uid: "6f1c-uid", generation: 3 });
  assert.deepEqual(ownerFor(dom), OWNER);
});

Deno.test("lvMetadata() renders one lv:owner element in lv's namespace", () => {
  assert.equal(
    renderXml(lvMetadata(OWNER)),
    `<metadata>
  <lv:owner xmlns:lv="${LV_XMLNS}" uid="6f1c-uid" kind="Domain" name="web" namespace="default" generation="3"/>
</metadata>
`,
  );
});

Deno.test("ownerOf() reads back what lvMetadata() wrote, whatever the document", async (t) => {
  const owner = renderXml(lvMetadata(OWNER));
  const cases: [string, string][] = [
    ["domain", `<domain type="kvm"><name>web</name>${owner}</domain>`],
    ["network", `<network><name>web</name>${owner}</network>`],
    ["metadata alone", owner],
    ["owner alone", ownerXml(OWNER)],
    [
      "another prefix (libvirt may rewrite it)",
      `<domain><metadata><x:owner xmlns:x="${LV_XMLNS}" uid="6f1c-uid" kind="Domain" name="web" namespace="default" generation="3"/></metadata></domain>`,
    ],
    [
      "default namespace",
      `<domain><metadata><owner xmlns="${LV_XMLNS}" uid="6f1c-uid" kind="Domain" name="web" namespace="default" generation="3"/></metadata></domain>`,
    ],
    [
      "namespace declared on the root",
      `<domain xmlns:lv="${LV_XMLNS}"><metadata><lv:owner uid="6f1c-uid" kind="Domain" name="web" namespace="default" generation="3"/></metadata></domain>`,
    ],
    [
      "next to other tools' metadata",
      `<domain><metadata><other:x xmlns:other="urn:other"/>${ownerXml(OWNER)}</metadata></domain>`,
    ],
  ];
  for (const [name, xml] of cases) {
    await t.step(name, () => assert.deepEqual(ownerOf(xml), OWNER));
  }
});

Deno.test("ownerOf() reads `virsh metadata --uri` output with fromVirshMetadata", () => {
  const printed = `<owner uid="6f1c-uid" kind="Domain" name="web" namespace="default" generation="3"/>\n`;
  assert.deepEqual(ownerOf(printed, { fromVirshMetadata: true }), OWNER);
  assert.equal(ownerOf(printed), undefined);
});

Deno.test("ownerOf() finds no owner where lv did not write one", async (t) => {
  const cases: [string, string][] = [
    ["no metadata", `<domain><name>web</name></domain>`],
    ["empty metadata", `<domain><metadata/></domain>`],
    [
      "other namespace",
      `<domain><metadata><lv:owner xmlns:lv="urn:not-lv" uid="u" kind="Domain" name="web"/></metadata></domain>`,
    ],
    ["no namespace", `<domain><metadata><owner uid="u" kind="Domain" name="web"/></metadata></domain>`],
    [
      "missing uid",
      `<domain><metadata><lv:owner xmlns:lv="${LV_XMLNS}" kind="Domain" name="web"/></metadata></domain>`,
    ],
    [
      "unknown kind",
      `<domain><metadata><lv:owner xmlns:lv="${LV_XMLNS}" uid="u" kind="Pod" name="web"/></metadata></domain>`,
    ],
    [
      "bad generation",
      `<domain><metadata><lv:owner xmlns:lv="${LV_XMLNS}" uid="u" kind="Domain" name="web" generation="x"/></metadata></domain>`,
    ],
    ["nested too deep", `<domain><devices><metadata>${ownerXml(OWNER)}</metadata></devices></domain>`],
  ];
  for (const [name, xml] of cases) {
    await t.step(name, () => assert.equal(ownerOf(xml), undefined));
  }
});

Deno.test("ownerOf() keeps hostile values intact", () => {
  const owner: LvOwner = {
    uid: HOSTILE,
    kind: "Network",
    name: `${HOSTILE}\n2`,
    namespace: HOSTILE,
    generation: 9,
  };
  const xml = renderXml(el("network", {}, el("name", {}, owner.name), lvMetadata(owner)));
  assert.deepEqual(ownerOf(xml), owner);
});

Deno.test("ownerOf() throws on malformed XML", () => {
  assert.throws(() => ownerOf("<domain><metadata></domain>"), XmlParseError);
});
