import assert from "node:assert/strict";
import { diffPaths } from "../../src/libvirt/xml/diff_paths.ts";
import {
  attrOf,
  childOf,
  childrenOf,
  parseXml,
  textAt,
  XmlParseError,
} from "../../src/libvirt/xml/parse_xml.ts";
import { scaledToBytes } from "../../src/libvirt/xml/scaled_integer.ts";

Deno.test("parseXml() reads elements, attributes and text in order", () => {
  const root = parseXml(`<?xml version="1.0"?>
<!-- comment -->
<domain type='kvm'>
  <name>007</name>
  <devices><disk n="1"/><disk n="2"/><other/></devices>
  <x>&#60;&#x3e;&amp;lt;<![CDATA[<y>]]></x>
</domain>`);
  assert.equal(root.name, "domain");
  assert.equal(attrOf(root, "type"), "kvm");
  assert.equal(textAt(root, "name"), "007");
  assert.deepEqual(childrenOf(childOf(root, "devices"), "disk").map((d) => attrOf(d, "n")), ["1", "2"]);
  assert.equal(textAt(root, "x"), "<>&lt;<y>");
  assert.equal(attrOf(root, "constructor"), undefined);
  assert.equal(textAt(root, "missing/deeper"), undefined);
});

Deno.test("parseXml() rejects malformed documents", async (t) => {
  for (const xml of ["", "garbage", "<a><b></a>", "<a x='1' x='2'/>", "<a/><b/>", "<a>"]) {
    await t.step(JSON.stringify(xml), () => {
      assert.throws(() => parseXml(xml), XmlParseError);
    });
  }
});

Deno.test("scaledToBytes() follows libvirt's units", async (t) => {
  const cases: [string, string | undefined, string | undefined, number][] = [
    ["512", undefined, undefined, 512],
    ["512", undefined, "KiB", 512 * 1024],
    ["1", "b", undefined, 1],
    ["1", "bytes", undefined, 1],
    ["1", "k", undefined, 1024],
    ["1", "KiB", undefined, 1024],
    ["1", "KB", undefined, 1000],
    ["1", "MiB", undefined, 2 ** 20],
    ["1", "M", undefined, 2 ** 20],
    ["1", "MB", undefined, 10 ** 6],
    ["4", "GiB", undefined, 4 * 2 ** 30],
    ["1", "T", undefined, 2 ** 40],
    [" 7 ", "bytes", undefined, 7],
  ];
  for (const [value, unit, defaultUnit, want] of cases) {
    await t.step(`${value} ${unit ?? `(default ${defaultUnit ?? "bytes"})`}`, () => {
      assert.equal(scaledToBytes(value, unit, { defaultUnit }), want);
    });
  }
  await t.step("rejects garbage", () => {
    assert.throws(() => scaledToBytes("1.5", "KiB"), RangeError);
    assert.throws(() => scaledToBytes("-1", "KiB"), RangeError);
    assert.throws(() => scaledToBytes("1", "parsecs"), RangeError);
  });
});

Deno.test("diffPaths() lists the paths that differ", async (t) => {
  const cases: [string, unknown, unknown, string[]][] = [
    ["equal", { a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }, []],
    ["scalar", { a: 1 }, { a: 2 }, ["a"]],
    ["nested", { a: { b: { c: "x" } } }, { a: { b: { c: "y" } } }, ["a.b.c"]],
    ["missing key", { a: 1, b: 2 }, { a: 1 }, ["b"]],
    ["extra key", { a: 1 }, { a: 1, b: undefined }, []],
    ["array length", { l: [1, 2] }, { l: [1] }, ["l[1]"]],
    ["array element", { l: [{ x: 1 }, { x: 2 }] }, { l: [{ x: 1 }, { x: 3 }] }, ["l[1].x"]],
    ["keyed", { h: { "[m1]": { ip: "a" } } }, { h: { "[m1]": { ip: "b" }, "[m2]": { ip: "c" } } }, [
      "h[m1].ip",
      "h[m2]",
    ]],
    ["kind change", { a: { b: 1 } }, { a: "x" }, ["a"]],
  ];
  for (const [name, want, got, paths] of cases) {
    await t.step(name, () => assert.deepEqual(diffPaths(want, got), paths));
  }
});
