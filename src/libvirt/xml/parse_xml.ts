/**
 * Reads XML (from `virsh dumpxml`, `net-dumpxml`, `vol-dumpxml`, ...) into a
 * small ordered tree. Entities and character references are decoded, values
 * stay strings (a name "007" is not a number), and malformed XML is an error.
 *
 * @module
 */

import { XMLParser, XMLValidator } from "fast-xml-parser";

/** An element: its qualified name, attributes, child elements in order, and its own text. */
export interface XmlNode {
  /** Qualified name as written, e.g. `domain` or `lv:owner`. */
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** The element's direct text (text and CDATA, concatenated, not trimmed). */
  text: string;
}

/** The input is not well-formed XML with exactly one root element. */
export class XmlParseError extends Error {
  /** 1-based line of the problem, when known. */
  readonly line?: number;

  constructor(message: string, options: { line?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "XmlParseError";
    this.line = options.line;
  }
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
});

type Ordered = Record<string, unknown>;

function toNode(entry: Ordered): XmlNode | undefined {
  const name = Object.keys(entry).find((k) => k !== ":@" && k !== "#text");
  if (name === undefined) return undefined;
  const rawAttrs = (entry[":@"] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = Object.fromEntries(
    Object.entries(rawAttrs).map(([k, v]) => [k, String(v)]),
  );
  const children: XmlNode[] = [];
  let text = "";
  for (const item of (entry[name] ?? []) as Ordered[]) {
    if (Object.hasOwn(item, "#text")) {
      text += String(item["#text"]);
      continue;
    }
    const child = toNode(item);
    if (child) children.push(child);
  }
  return { name, attrs, children, text };
}

/**
 * Parses a document and returns its root element.
 * Throws `XmlParseError` when the text is not well-formed or has no
 * single root element.
 */
export function parseXml(xml: string): XmlNode {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new XmlParseError(`Invalid XML at line ${valid.err.line}: ${valid.err.msg}`, {
      line: valid.err.line,
    });
  }
  let parsed: Ordered[];
  try {
    parsed = parser.parse(xml) as Ordered[];
  } catch (cause) {
    throw new XmlParseError(`Invalid XML: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
  const roots = parsed.map(toNode).filter((n): n is XmlNode => n !== undefined);
  if (roots.length !== 1) throw new XmlParseError(`Expected one root element, found ${roots.length}`);
  return roots[0];
}

/** The first child element named `name`. */
export function childOf(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children.find((c) => c.name === name);
}

/** Every child element named `name`, in document order. */
export function childrenOf(node: XmlNode | undefined, name: string): XmlNode[] {
  return node?.children.filter((c) => c.name === name) ?? [];
}

/** The value of attribute `name`, or undefined. */
export function attrOf(node: XmlNode | undefined, name: string): string | undefined {
  return node && Object.hasOwn(node.attrs, name) ? node.attrs[name] : undefined;
}

/** Follows a path of child names (`"os/type"`) and returns that element. */
export function pathOf(node: XmlNode | undefined, path: string): XmlNode | undefined {
  let at = node;
  for (const step of path.split("/")) at = childOf(at, step);
  return at;
}

/** The text of the element at `path` below `node`, or undefined when it is absent. */
export function textAt(node: XmlNode | undefined, path: string): string | undefined {
  return pathOf(node, path)?.text;
}
