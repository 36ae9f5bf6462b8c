/** One printer per -o format: table, wide, yaml, json, name. */
import { getCondition } from "../api/conditions.ts";
import { forwardedPortText } from "../api/forwarded_port.ts";
import type { AnyResource, Kind } from "../api/types.ts";
import { cellColour, paint } from "./colour.ts";
import { kindWord } from "./kinds.ts";

export const OUTPUT_FORMATS = ["table", "wide", "yaml", "json", "name"] as const;
export type OutputFormat = typeof OUTPUT_FORMATS[number];
/** Every form -o of lv get takes (output_format.ts reads the last two), for help, completion and errors. */
export const OUTPUT_FORMS = [...OUTPUT_FORMATS, "jsonpath=TEMPLATE", "custom-columns=SPEC"] as const;

/** "5s", "3m", "2h", "4d": kubectl's age. */
export function age(since: string | undefined, now: Date = new Date()): string {
  if (!since) return "<unknown>";
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** 1073741824 → "1Gi". */
export function bytes(n: number | undefined): string {
  if (n === undefined) return "";
  const units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[i]}`;
}

function ready(obj: AnyResource): string {
  const c = getCondition(obj.status, "Ready");
  return c ? c.status : "Unknown";
}

interface Column {
  header: string;
  wide?: boolean;
  value(obj: AnyResource, now: Date): string;
}

const name: Column = { header: "NAME", value: (o) => o.metadata.name };
const readyCol: Column = { header: "READY", value: ready };
const ageCol: Column = { header: "AGE", value: (o, now) => age(o.metadata.creationTimestamp, now) };
const reason: Column = {
  header: "REASON",
  wide: true,
  value: (o) => {
    const c = getCondition(o.status, "Ready");
    return c && c.status !== "True" ? c.reason : "";
  },
};

const COLUMNS: Record<Kind, Column[]> = {
  Box: [
    name,
    { header: "POOL", value: (o) => o.kind === "Box" ? o.spec.pool : "" },
    { header: "FORMAT", value: (o) => o.kind === "Box" ? o.status.format ?? "" : "" },
    { header: "SIZE", value: (o) => o.kind === "Box" ? bytes(o.status.virtualSize) : "" },
    { header: "USED-BY", value: (o) => o.kind === "Box" ? String(o.status.usedBy?.length ?? 0) : "" },
    readyCol,
    ageCol,
    { header: "VOLUME", wide: true, value: (o) => o.kind === "Box" ? o.status.volume ?? "" : "" },
    { header: "SOURCE", wide: true, value: (o) => o.kind === "Box" ? o.spec.source : "" },
    reason,
  ],
  Volume: [
    name,
    { header: "POOL", value: (o) => o.kind === "Volume" ? o.spec.pool : "" },
    {
      header: "SIZE",
      value: (o) => o.kind === "Volume" ? bytes(o.status.capacity ?? o.spec.size) : "",
    },
    { header: "BOX", value: (o) => o.kind === "Volume" ? o.spec.backingBox ?? "" : "" },
    readyCol,
    ageCol,
    { header: "PATH", wide: true, value: (o) => o.kind === "Volume" ? o.status.path ?? "" : "" },
    reason,
  ],
  Network: [
    name,
    { header: "MODE", value: (o) => o.kind === "Network" ? o.spec.mode : "" },
    {
      header: "SUBNET",
      value: (o) => o.kind === "Network" ? `${o.spec.ipv4.address}/${o.spec.ipv4.prefix}` : "",
    },
    { header: "DHCP", value: (o) => o.kind === "Network" ? (o.spec.dhcp.enabled ? "on" : "off") : "" },
    readyCol,
    ageCol,
    { header: "BRIDGE", wide: true, value: (o) => o.kind === "Network" ? o.status.bridge ?? "" : "" },
    reason,
  ],
  Domain: [
    name,
    {
      header: "STATE",
      value: (o) =>
        o.kind !== "Domain" ? "" : (o.status.phase ?? "Pending") +
          (getCondition(o.status, "RestartRequired")?.status === "True" ? " (restart required)" : ""),
    },
    { header: "IP", value: (o) => o.kind === "Domain" ? o.status.ip ?? "" : "" },
    { header: "BOX", value: (o) => o.kind === "Domain" ? o.spec.box ?? "" : "" },
    readyCol,
    ageCol,
    { header: "CPUS", wide: true, value: (o) => o.kind === "Domain" ? String(o.spec.cpus) : "" },
    { header: "MEMORY", wide: true, value: (o) => o.kind === "Domain" ? `${o.spec.memory}Mi` : "" },
    {
      header: "DRIVER",
      wide: true,
      value: (o) => o.kind === "Domain" ? o.status.driver ?? o.spec.driver ?? "" : "",
    },
    {
      header: "MACS",
      wide: true,
      value: (o) => o.kind === "Domain" ? (o.status.interfaces ?? []).map((i) => i.mac).join(",") : "",
    },
    {
      header: "DISPLAY",
      wide: true,
      value: (o) => {
        const g = o.kind === "Domain" ? o.status.graphics : undefined;
        return g ? `${g.type}://${g.listen ?? ""}${g.port ? `:${g.port}` : ""}` : "";
      },
    },
    {
      header: "PORTS",
      wide: true,
      value: (o) => o.kind === "Domain" ? (o.spec.forwardedPorts ?? []).map(forwardedPortText).join(",") : "",
    },
    reason,
  ],
};

/**
 * Left-aligned columns separated by three spaces, like kubectl. `paint` may wrap a cell in colour codes
 * (the widths are the plain text's).
 */
export function renderTable(rows: string[][], paint?: (cell: string, column: number) => string): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((cell, i) => {
      const shown = paint ? paint(cell, i) : cell;
      return i === r.length - 1 ? shown : shown + " ".repeat(widths[i] + 3 - cell.length);
    }).join("").trimEnd()
  )
    .join("\n") + "\n";
}

export interface PrintOptions {
  /** Prefix names with kind/ (several kinds in one listing). */
  withKind?: boolean;
  /** Leading NAMESPACE and CONTEXT columns (get -A): the context's name for an object. */
  contextOf?: (obj: AnyResource) => string;
  now?: Date;
  /** -L: a column per label key, headed by the key in capitals. */
  labelColumns?: string[];
  /** --show-labels: a LABELS column, key=value,... */
  showLabels?: boolean;
  /** --no-headers: rows only. */
  noHeaders?: boolean;
  /** READY, STATE in colour (colour.ts says when). */
  colour?: boolean;
}

/** "app=web,tier=front", or <none>. */
export function labelList(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** A table of objects of one kind. */
export function printTable(
  kind: Kind,
  objects: AnyResource[],
  wide: boolean,
  options: PrintOptions = {},
): string {
  const columns = COLUMNS[kind].filter((c) => wide || !c.wide);
  const now = options.now ?? new Date();
  const contextOf = options.contextOf;
  const labelKeys = options.labelColumns ?? [];
  const rows = [[
    ...(contextOf ? ["NAMESPACE", "CONTEXT"] : []),
    ...columns.map((c) => c.header),
    ...labelKeys.map((k) => k.toUpperCase()),
    ...(options.showLabels ? ["LABELS"] : []),
  ]];
  for (const obj of objects) {
    const labels = obj.metadata.labels ?? {};
    rows.push([
      ...(contextOf ? [obj.metadata.namespace, contextOf(obj)] : []),
      ...columns.map((c) => {
        const v = c.value(obj, now);
        return c === name && options.withKind ? `${kindWord(kind)}/${v}` : v;
      }),
      ...labelKeys.map((k) => labels[k] ?? ""),
      ...(options.showLabels ? [labelList(labels)] : []),
    ]);
  }
  const headers = rows[0];
  const painter = options.colour
    ? (cell: string, column: number) => {
      const colour = cellColour(headers[column], cell);
      return colour ? paint(cell, colour) : cell;
    }
    : undefined;
  return renderTable(options.noHeaders ? rows.slice(1) : rows, painter);
}

/** Objects in a machine format: yaml and json print one object alone, or a List of several. */
export async function printObjects(
  objects: AnyResource[],
  format: "yaml" | "json" | "name",
  single: boolean,
): Promise<string> {
  if (format === "name") return objects.map((o) => `${kindWord(o.kind)}/${o.metadata.name}\n`).join("");
  // sizes as input reads them (machineVirtualSize is stored in bytes, a plain number means GiB), so the
  // output applies again unchanged
  const { canonicalInput } = await import("../api/canonical_input.ts");
  const items = objects.map((o) => canonicalInput(o.kind, o));
  const doc = single && items.length === 1 ? items[0] : { apiVersion: "v1", kind: "List", items };
  if (format === "json") return JSON.stringify(doc, null, 2) + "\n";
  return (await import("./yaml_stringify.ts")).stringify(doc); // loaded only for yaml: a table needs no YAML library
}
