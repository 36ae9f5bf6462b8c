/**
 * A tiny XML builder in which every value is escaped.
 *
 * lv builds libvirt XML from user input (names, paths, MACs, annotations), so
 * no value may be concatenated into XML by hand. Elements are built with
 * {@linkcode el} and serialised with {@linkcode renderXml}; attribute values
 * and text are escaped on the way out, element and attribute names (which are
 * lv's own constants) are checked, and characters that XML 1.0 cannot carry at
 * all (NUL and most C0 controls, lone surrogates) are refused with an
 * {@linkcode XmlValueError} instead of producing a document libvirt rejects.
 *
 * fast-xml-parser's XMLBuilder is not used for output: it leaves newlines in
 * attribute values unescaped (an XML parser normalises them to spaces) and
 * passes control characters through.
 *
 * @module
 */

/** A value that can be placed in an attribute; `undefined` omits the attribute. */
export type XmlAttrValue = string | number | undefined;

/** An XML element: a name, attributes in insertion order, and children. */
export interface XmlElement {
  name: string;
  attrs: Record<string, XmlAttrValue>;
  children: XmlChild[];
}

/** A child of an element: an element, text, or nothing (`undefined`, `null`, `false` are skipped). */
export type XmlChild = XmlElement | string | undefined | null | false;

/** A value that XML 1.0 cannot represent, or a name that is not an XML name. */
export class XmlValueError extends Error {
  /** The offending value. */
  readonly value: string;

  constructor(message: string, value: string) {
    super(message);
    this.name = "XmlValueError";
    this.value = value;
  }
}

// XML 1.0 Char production, as code points (the u flag makes lone surrogates match).
const INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// Element and attribute names lv uses: an NCName, optionally prefixed.
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?$/;

function checkChars(value: string): void {
  const bad = INVALID_CHAR.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0;
    throw new XmlValueError(
      `Cannot put ${JSON.stringify(value)} into XML: character U+${
        code.toString(16).toUpperCase().padStart(4, "0")
      } is not allowed in XML 1.0`,
      value,
    );
  }
}

/**
 * Escapes text content: `&`, `<`, `>` (so `]]>` cannot appear) and carriage
 * return (which a parser would otherwise turn into a newline).
 * Throws {@linkcode XmlValueError} for characters XML cannot carry.
 */
export function escapeText(value: string): string {
  checkChars(value);
  return value.replace(/[&<>\r]/g, (c) => TEXT_ENTITIES[c]);
}

/**
 * Escapes an attribute value for use between double quotes: `& < > " '` and
 * tab, newline and carriage return (which a parser would normalise to spaces).
 * Throws {@linkcode XmlValueError} for characters XML cannot carry.
 */
export function escapeAttr(value: string): string {
  checkChars(value);
  return value.replace(/[&<>"'\t\n\r]/g, (c) => ATTR_ENTITIES[c]);
}

const TEXT_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };
const ATTR_ENTITIES: Record<string, string> = {
  ...TEXT_ENTITIES,
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
};

/**
 * Makes an element. Attributes whose value is `undefined` are left out;
 * children that are `undefined`, `null` or `false` are skipped, so optional
 * parts can be written inline: `el("forward", { mode, dev }, nat && el("nat", {}))`.
 */
export function el(
  name: string,
  attrs: Record<string, XmlAttrValue> = {},
  ...children: XmlChild[]
): XmlElement {
  return { name, attrs, children };
}

/** Options for {@linkcode renderXml}. */
export interface RenderXmlOptions {
  /** Spaces per nesting level. Default 2. */
  indent?: number;
}

function checkName(name: string): void {
  if (!XML_NAME.test(name)) throw new XmlValueError(`Not an XML name: ${JSON.stringify(name)}`, name);
}

function attrText(value: string | number, element: string, attr: string): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new XmlValueError(`Attribute ${attr} of <${element}> must be a finite number`, String(value));
    }
    return String(value);
  }
  return escapeAttr(value);
}

/**
 * Serialises an element (no XML declaration; virsh does not need one).
 * Elements holding only text are written on one line so the text is kept
 * exactly; elements holding only elements are indented.
 */
export function renderXml(root: XmlElement, options: RenderXmlOptions = {}): string {
  const unit = " ".repeat(options.indent ?? 2);
  const openTag = (node: XmlElement): string => {
    checkName(node.name);
    let open = `<${node.name}`;
    for (const [key, value] of Object.entries(node.attrs)) {
      if (value === undefined) continue;
      checkName(key);
      open += ` ${key}="${attrText(value, node.name, key)}"`;
    }
    return open;
  };
  const present = (node: XmlElement): (XmlElement | string)[] =>
    node.children.filter((c): c is XmlElement | string => c !== undefined && c !== null && c !== false);
  // Written without added whitespace: used for text and mixed content.
  const inline = (child: XmlElement | string): string => {
    if (typeof child === "string") return escapeText(child);
    const kids = present(child);
    return kids.length === 0
      ? `${openTag(child)}/>`
      : `${openTag(child)}>${kids.map(inline).join("")}</${child.name}>`;
  };
  const out: string[] = [];
  const write = (node: XmlElement, depth: number): void => {
    const pad = unit.repeat(depth);
    const kids = present(node);
    if (kids.some((c) => typeof c === "string") || kids.length === 0) {
      out.push(pad + inline(node));
      return;
    }
    out.push(`${pad}${openTag(node)}>`);
    for (const kid of kids) write(kid as XmlElement, depth + 1);
    out.push(`${pad}</${node.name}>`);
  };
  write(root, 0);
  return out.join("\n") + "\n";
}
