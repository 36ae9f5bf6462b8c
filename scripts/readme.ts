/** Writes the README's commands table from the command declarations: `deno task readme`. */
import { COMMANDS } from "../src/cli/commands.ts";
import { commandsTable, replaceCommandsTable } from "../src/cli/commands_table.ts";

const path = new URL("../README.md", import.meta.url);
const readme = Deno.readTextFileSync(path);
const next = replaceCommandsTable(readme, commandsTable(COMMANDS));
if (next !== readme) Deno.writeTextFileSync(path, next);
console.log(next === readme ? "README.md: commands table unchanged" : "README.md: commands table written");
