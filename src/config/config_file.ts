/** Reading and writing the lv config file (YAML, problems with file:line:col and field). */
import { dirnamePath as dirname } from "../api/posix_path.ts";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify } from "yaml";
import { closest, quoteSafe } from "../api/problem.ts";
import { FORMATS } from "../api/validate_format.ts";
import { writeFileAtomic } from "./write_file.ts";
import { storeUrlProblem } from "./store_url.ts";
import { ConfigError, type LvConfig, type LvContext, URI_PARTS } from "./config.ts";

type FieldType = "string" | "port" | "boolean" | "driver";
const CONTEXT_FIELDS: Record<Exclude<keyof LvContext, "name">, FieldType> = {
  uri: "string",
  driver: "driver",
  host: "string",
  port: "port",
  connectViaSsh: "boolean",
  username: "string",
  password: "string",
  idSshKeyFile: "string",
  storagePoolName: "string",
  defaultNetwork: "string",
};
/** A context's name is what spec.context holds: the same rule. */
const NAME = FORMATS["libvirt-name"];

/** Reads the config file; a missing file is an empty config. */
export function loadConfig(path: string): LvConfig {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { contexts: [] };
    throw new ConfigError(`${path}: cannot be read: ${(e as Error).message}`);
  }
  return parseConfig(text, path);
}

type YamlNode = { range?: [number, number, number] | null } | null | undefined;
type At = (node: YamlNode, field: string, message: string) => void;

/** A parse in progress: what was read so far, the context nodes by index, and where problems go. */
interface ConfigParse {
  config: LvConfig;
  nodes: [unknown, number][];
  at: At;
}

function stringField(value: unknown): string | undefined {
  return isScalar(value) && typeof value.value === "string" ? value.value : undefined;
}

/** How each top-level field of the config file is read. */
const TOP_FIELDS: Record<string, (value: unknown, p: ConfigParse) => void> = {
  apiVersion() {},
  kind() {},
  currentContext(value, { config, at }) {
    if (isScalar(value) && (typeof value.value === "string" || value.value === null)) {
      config.currentContext = (value.value as string | null) ?? undefined;
    } else at(value as YamlNode, "currentContext", "must be a context name");
  },
  contexts(value, { config, nodes, at }) {
    if (isSeq(value)) {
      value.items.forEach((item, i) => {
        const ctx = parseContext(item, `contexts[${i}]`, at as never);
        if (ctx) config.contexts.push(ctx);
        if (ctx) nodes.push([item, i]);
      });
    } else if (!(isScalar(value) && value.value === null)) {
      at(value as YamlNode, "contexts", "must be a list");
    }
  },
  // Vagrant's VAGRANT_SERVER_URL: where catalog names (USER/NAME) of Boxes are looked up.
  boxServerUrl(value, { config, at }) {
    const url = stringField(value);
    if (url !== undefined && /^https?:\/\/[^\s/]+/.test(url)) config.boxServerUrl = url;
    else at(value as YamlNode, "boxServerUrl", "must be an http(s) URL of a Vagrant box catalog");
  },
  store(value, { config, at }) {
    const url = stringField(value);
    const problem = url === undefined ? "must be a store URL (etcd://host:2379)" : storeUrlProblem(url);
    if (problem) at(value as YamlNode, "store", problem);
    else config.store = url;
  },
  storePassword(value, { config, at }) {
    const password = stringField(value);
    if (password === undefined) at(value as YamlNode, "storePassword", "must be a string");
    else config.storePassword = password;
  },
};

/** Parses and checks config text; every problem is reported at once as file:line:col: field: message. */
export function parseConfig(text: string, file: string): LvConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at: At = (node, field, m) => {
    const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    problems.push(`${file}:${pos.line}:${pos.col}: ${field ? `${field}: ` : ""}${m}`);
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push(`${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
  }
  const parse: ConfigParse = { config: { contexts: [] }, nodes: [], at };
  if (problems.length === 0 && doc.contents !== null) {
    const root = doc.contents;
    if (!isMap(root)) {
      at(root, "", "must be a mapping with currentContext and contexts");
    } else {
      for (const pair of root.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : "";
        const read = Object.hasOwn(TOP_FIELDS, key) ? TOP_FIELDS[key] : undefined;
        if (read) read(pair.value, parse);
        else {
          const near = closest(key, Object.keys(TOP_FIELDS));
          at(pair.key as never, key, `unknown field${near ? ` (did you mean "${near}"?)` : ""}`);
        }
      }
      checkContextNames(parse, root.get("currentContext", true) as YamlNode);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return parse.config;
}

/** Each context name once; currentContext names one of them. */
function checkContextNames({ config, nodes, at }: ConfigParse, currentNode: YamlNode): void {
  const seen = new Set<string>();
  config.contexts.forEach((c, i) => {
    if (seen.has(c.name)) {
      const [node, index] = nodes[i];
      at(node as never, `contexts[${index}].name`, `"${c.name}" is defined twice`);
    }
    seen.add(c.name);
  });
  if (config.currentContext && !seen.has(config.currentContext)) {
    at(currentNode, "currentContext", `no context named "${config.currentContext}"`);
  }
}

function parseContext(
  item: unknown,
  path: string,
  at: (node: never, field: string, message: string) => void,
): LvContext | undefined {
  if (!isMap(item)) {
    at(item as never, path, "must be a mapping with name and connection fields");
    return undefined;
  }
  const ctx: Record<string, unknown> = {};
  let ok = true;
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    const node = pair.value;
    const value = isScalar(node) ? node.value : undefined;
    const field = `${path}.${key}`;
    const type = key === "name" ? "name" : CONTEXT_FIELDS[key as keyof typeof CONTEXT_FIELDS];
    const fail = (m: string) => {
      at(
        node as never,
        field,
        `${m}; got ${quoteSafe(String(isScalar(node) ? node.value : "a " + typeof node))}`,
      );
      ok = false;
    };
    if (type === undefined) {
      const near = closest(key, ["name", ...Object.keys(CONTEXT_FIELDS)]);
      at(pair.key as never, field, `unknown field${near ? ` (did you mean "${near}"?)` : ""}`);
      ok = false;
    } else if (type === "name") {
      if (typeof value !== "string" || !NAME.check(value).ok) fail(`must be ${NAME.rule}`);
      else ctx.name = value;
    } else if (type === "port") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
        fail("must be a port number 1..65535");
      } else ctx[key] = value;
    } else if (type === "boolean") {
      if (typeof value !== "boolean") fail("must be true or false");
      else ctx[key] = value;
    } else if (type === "driver") {
      if (value !== "kvm" && value !== "qemu") fail("must be kvm or qemu");
      else ctx[key] = value;
    } else if (typeof value !== "string" || value === "" || /[\0\n\r]/.test(value)) {
      fail("must be a non-empty one-line string");
    } else ctx[key] = value;
  }
  if (ctx.name === undefined && ok) {
    at(item as never, `${path}.name`, "is required");
    return undefined;
  }
  if (ctx.uri !== undefined) {
    const both = URI_PARTS.filter((k) => ctx[k] !== undefined);
    if (both.length > 0) {
      at(
        item.get(both[0], true) as never,
        `${path}.${both[0]}`,
        "cannot be given with uri (put it in the uri)",
      );
      ok = false;
    } else {
      try {
        new URL(ctx.uri as string);
      } catch {
        at(
          item.get("uri", true) as never,
          `${path}.uri`,
          `is not a URI; got ${quoteSafe(ctx.uri as string)}`,
        );
        ok = false;
      }
    }
  }
  return ok ? ctx as unknown as LvContext : undefined;
}

/** Writes the config atomically, 0600. */
export function saveConfig(path: string, config: LvConfig): void {
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const doc: Record<string, unknown> = { apiVersion: "lv.dev/v1alpha1", kind: "Config" };
  if (config.currentContext) doc.currentContext = config.currentContext;
  if (config.store) doc.store = config.store;
  if (config.storePassword) doc.storePassword = config.storePassword;
  doc.contexts = config.contexts;
  if (config.boxServerUrl) doc.boxServerUrl = config.boxServerUrl;
  writeFileAtomic(path, stringify(doc), 0o600);
}
