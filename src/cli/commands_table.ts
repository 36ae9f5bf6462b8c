/** The README's commands table, generated from the declarations (`deno task readme` writes it). */
import { type Command, COMMON_FLAGS } from "./command.ts";
import { flagLabel, listingRows } from "./help.ts";

const BEGIN = "<!-- commands table: generated from src/cli/commands/ by `deno task readme` -->";
const END = "<!-- end of commands table -->";

/** A Markdown table, one row per line of `lv help`'s list, laid out the way `deno fmt` lays tables out. */
export function commandsTable(commands: readonly Command[]): string {
  const rows = listingRows(commands).map((row) => {
    const flags = new Set(
      row.commands.flatMap((c) => Object.entries(c.flags).map(([n, f]) => flagLabel(n, f))),
    );
    return [
      row.lines.map((l) => code(`lv ${l}`)).join(" / "),
      escape(row.summary),
      [...flags].map(code).join(", "),
    ];
  });
  const table = [["command", "does", "flags"], ...rows];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |\n`;
  const common = Object.entries(COMMON_FLAGS).map(([n, f]) => code(flagLabel(n, f))).join(", ");
  return line(table[0]) + line(widths.map((w) => "-".repeat(w))) + table.slice(1).map(line).join("") +
    `\nEvery command also takes ${common}.\n`;
}

/** The README with its commands table (between the markers) replaced by `table`. */
export function replaceCommandsTable(readme: string, table: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${BEGIN}" ... "${END}" section`);
  return `${readme.slice(0, start)}${BEGIN}\n\n${table}\n${readme.slice(end)}`;
}

function code(text: string): string {
  return `\`${escape(text)}\``;
}

function escape(text: string): string {
  return text.replaceAll("|", "\\|");
}
