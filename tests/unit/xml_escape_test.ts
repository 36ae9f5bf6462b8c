import assert from "node:assert/strict";
import { el, escapeAttr, escapeText, renderXml, XmlValueError } from "../../src/libvirt/xml/escape.ts";
import { parseXml } from "../../src/libvirt/xml/parse_xml.ts";
import { HOSTILE } from "./xml_fixtures.ts";

const VALUES = [
  HOSTILE,
  "]]>",
  "<![CDATA[x]]>",
  "&amp; stays literal",
  "&#60;not a reference",
  `"double" and 'single'`,
  "<!-- not a comment -->",
  "line1\nline2\ttab\r\ncrlf",
  "  leading and trailing  ",
  "unicode ü € 𝄞",
  "007",
  "",
];

Deno.test("escapeText() and escapeAttr() round-trip hostile values through a parser", async (t) => {
  for (const value of VALUES) {
    await t.step(JSON.stringify(value), () => {
      const xml = renderXml(el("root", { attr: value }, el("child", {}, value)));
      const root = parseXml(xml);
      assert.equal(root.attrs.attr, value);
      assert.equal(root.children[0].text, value);
    });
  }
});

Deno.test("escapeText() leaves no markup characters in output", () => {
  const out = escapeText(HOSTILE);
  assert.equal(out, "a&lt;b&gt;&amp;c\"d'e]]&gt;f");
  assert.doesNotMatch(out, /[<>]|]]>/);
});

Deno.test("escapeAttr() escapes quotes and whitespace that parsers normalise", () => {
  assert.equal(escapeAttr(`"'<>&`), "&quot;&apos;&lt;&gt;&amp;");
  assert.equal(escapeAttr("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
});

Deno.test("escapeText() refuses characters XML 1.0 cannot carry", async (t) => {
  for (const value of ["nul\u0000", "bell\u0007", "esc\u001b[0m", "lone \uD800 surrogate", "\uFFFE"]) {
    await t.step(JSON.stringify(value), () => {
      assert.throws(() => escapeText(value), XmlValueError);
      assert.throws(() => escapeAttr(value), XmlValueError);
      assert.throws(() => renderXml(el("a", {}, value)), XmlValueError);
    });
  }
});

Deno.test("renderXml() refuses element and attribute names that are not XML names", async (t) => {
  for (const name of ["a b", "a>b", "", "1a", 'a"b', "x:y:z"]) {
    await t.step(JSON.stringify(name), () => {
      assert.throws(() => renderXml(el(name)), XmlValueError);
      assert.throws(() => renderXml(el("a", { [name]: "v" })), XmlValueError);
    });
  }
});

Deno.test("renderXml() omits undefined attributes and skipped children", () => {
  const xml = renderXml(el("a", { x: undefined, y: 0, z: "" }, undefined, null, false, el("b")));
  assert.equal(xml, '<a y="0" z="">\n  <b/>\n</a>\n');
});

Deno.test("renderXml() refuses non-finite numbers", () => {
  assert.throws(() => renderXml(el("a", { n: Number.NaN })), XmlValueError);
  assert.throws(() => renderXml(el("a", { n: Infinity })), XmlValueError);
});

Deno.test("renderXml() keeps mixed content exactly", () => {
  const xml = renderXml(el("p", {}, "one\n", el("b", {}, "two"), " three"));
  assert.equal(xml, "<p>one\n<b>two</b> three</p>\n");
  const root = parseXml(xml);
  assert.equal(root.text, "one\n three");
  assert.equal(root.children[0].text, "two");
});
