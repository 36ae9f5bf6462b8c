/** parseFlags() reads a command line as node:util's parseArgs (strict, positionals allowed) does. */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { type FlagGrammar, parseFlags } from "../../src/cli/parse_flags.ts";

const OPTIONS: Record<string, FlagGrammar> = {
  output: { type: "string", short: "o" },
  watch: { type: "boolean", short: "w" },
  all: { type: "boolean", short: "A" },
  label: { type: "string", short: "l", multiple: true },
  verbose: { type: "boolean", short: "v", multiple: true },
  timeout: { type: "string" },
};

const LINES: string[][] = [
  ["get", "-o", "yaml"],
  ["-oyaml"],
  ["-wA"],
  ["-wAo", "json", "x"],
  ["-woyaml"],
  ["--output=a=b"],
  ["--output", "x", "--label", "a", "-l", "b", "-lc"],
  ["--output"],
  ["-o"],
  ["--output", "-x"],
  ["-o", "-x"],
  ["--output", "-"],
  ["-"],
  ["--nope"],
  ["-x"],
  ["-wx"],
  ["--watch=1"],
  ["-vv", "--verbose"],
  ["a", "-w", "b"],
  ["--output", "--watch"],
  ["-ow"],
  ["--timeout", "5m", "--timeout=6m"],
  ["--output="],
];

function outcome(parse: () => { values: Record<string, unknown>; positionals: string[] }): unknown {
  try {
    const { values, positionals } = parse();
    return { values: { ...values }, positionals };
  } catch (e) {
    return `error: ${(e as Error).message.split(". ")[0]}`;
  }
}

for (const line of LINES) {
  Deno.test(`parseFlags() reads ${JSON.stringify(line)} as node:util's parseArgs does`, () => {
    const mine = outcome(() => parseFlags(line, OPTIONS));
    const node = outcome(() =>
      parseArgs({
        args: line,
        options: OPTIONS as NonNullable<Parameters<typeof parseArgs>[0]>["options"],
        allowPositionals: true,
        strict: true,
      })
    );
    assert.deepEqual(mine, node);
  });
}
