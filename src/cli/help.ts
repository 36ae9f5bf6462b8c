/** Help texts from the command declarations: `lv help` (every command) and `lv help CMD` / `lv CMD --help`. */
import { type Command, COMMON_FLAGS, type Flags, type FlagSpec } from "./command.ts";

/** Lines are wrapped to this width (descriptions written by hand are kept as written). */
const WIDTH = 102;
/** Where `lv help` starts a command's summary or a flag's description. */
const COLUMN = 23;

/** `lv help`: what lv is, its commands one row each (commands listed together share one), common flags. */
export function helpText(commands: readonly Command[]): string {
  return `lv runs virtual machines on libvirt the way Kubernetes runs workloads.

Usage: lv COMMAND [ARGS] [FLAGS]

Resources (apiVersion lv.dev/v1alpha1): Box, Volume, Network, Domain.

Commands:
${listingRows(commands).map((row) => entry(row.lines, row.summary)).join("")}
Flags for every command:
${flagLines(COMMON_FLAGS)}
Environment: LV_HOME (caches and keys, default ~/.local/share/lv; when set, its store.db too, else the
store is /var/lib/lv/store.db for qemu:///system, shared by group libvirt), LV_CONNECT, LV_CONTEXT, LV_STORE,
LV_STORE_PASSWORD (the etcd user's password; or storePassword: in the config file), LV_CONFIG
(config file, default $LV_HOME/config.yaml when LV_HOME is set, else ~/.config/lv/config.yaml),
LV_VIRSH=process (a virsh process per command instead of long-lived virsh sessions), LV_BOX_SERVER_URL
(Vagrant box catalog for Box names USER/NAME), VAGRANT_HOME (Vagrant's downloaded boxes, default ~/.vagrant.d).
Exit codes: 0 ok, 1 failure, 2 usage or validation error.
`;
}

/** One row of the command list: the command and those listed with it. */
export interface ListingRow {
  commands: Command[];
  /** Usage forms without `lv `: "delete -f FILE", "delete KIND NAME". */
  lines: string[];
  summary: string;
}

export function listingRows(commands: readonly Command[]): ListingRow[] {
  return commands.filter((c) => !c.listedWith).map((c) => {
    const together = [c, ...commands.filter((o) => o.listedWith === c.name)];
    const names = together.map((o) => o.name).join("|");
    const lines = (c.synopsis ?? [""]).map((s) => `${names} ${s}`.trim());
    return { commands: together, lines, summary: c.summary };
  });
}

/** `lv help CMD`: usage lines, description, flags (by subcommand where they belong to one), examples. */
export function usageText(command: Command): string {
  const usage = command.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}lv ${u}\n`).join("");
  const parts = [usage];
  if (command.description) parts.push(command.description.replace(/\n*$/, "\n"));
  const groups = new Map<string | undefined, Flags>();
  for (const [name, spec] of Object.entries(command.flags)) {
    groups.set(spec.of, { ...groups.get(spec.of), [name]: spec });
  }
  for (const of of [undefined, ...[...groups.keys()].filter((k) => k !== undefined)]) {
    const flags = groups.get(of);
    if (flags) parts.push(`${of ? `Flags of ${of}` : "Flags"}:\n${flagLines(flags)}`);
  }
  if (command.examples?.length) {
    parts.push(`Examples:\n${command.examples.map((e) => `  ${e}\n`).join("")}`);
  }
  return parts.join("\n");
}

/** A flag as help and the README show it: `-f, --filename FILE`, `--wait=false`, `--dry-run`. */
export function flagLabel(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  if (spec.type === "boolean") return spec.default === true ? `--${name}=false` : `${short}--${name}`;
  return `${short}--${name} ${valueName(spec)}`;
}

function valueName(spec: FlagSpec): string {
  if (spec.value) return spec.value;
  if (spec.choices) return spec.choices.join("|");
  return spec.type === "duration" ? "DURATION" : spec.type === "integer" ? "N" : "VALUE";
}

/** What a flag does, with its choices (when the label names a placeholder) and its default (not a boolean's). */
export function flagDescription(spec: FlagSpec): string {
  const text = spec.choices && spec.value
    ? `${spec.description}: ${spec.choices.join(", ")}`
    : spec.description;
  if (spec.default === undefined || typeof spec.default === "boolean") return text;
  const shown = spec.type === "string" ? `"${spec.default}"` : spec.default;
  return `${text} (default ${shown})`;
}

function flagLines(flags: Flags): string {
  const labels = Object.entries(flags).map(([name, spec]) => [flagLabel(name, spec), flagDescription(spec)]);
  const column = Math.max(COLUMN, ...labels.map(([label]) => label.length + 4));
  return labels.map(([label, text]) => entry([label], text, column)).join("");
}

/** `  label   text`, the text wrapped at WIDTH; on the next line when the label does not leave room. */
function entry(labels: string[], text: string, column = COLUMN): string {
  const wrapped = wrap(text, WIDTH - column).map((l) => " ".repeat(column) + l + "\n");
  const first = labels[0];
  const out = first.length <= column - 3
    ? [`  ${first.padEnd(column - 2)}${wrapped[0].trimStart()}`, ...wrapped.slice(1)]
    : [`  ${first}\n`, ...wrapped];
  return [out[0], ...labels.slice(1).map((l) => `  ${l}\n`), ...out.slice(1)].join("");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
