/**
 * Colour in tables (READY True green, False red; a Failed phase red): only on a terminal, and never with
 * NO_COLOR set (https://no-color.org) or TERM=dumb.
 */

/** Whether to colour what goes to stdout. */
export function colourWanted(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  isTerminal: boolean = Deno.stdout.isTerminal(),
): boolean {
  return isTerminal && !env("NO_COLOR") && env("TERM") !== "dumb";
}

const CODES = { green: 32, red: 31, yellow: 33 } as const;

/** The colour a table cell gets under `header`, if any. */
export function cellColour(header: string, cell: string): keyof typeof CODES | undefined {
  if (header === "READY") return cell === "True" ? "green" : cell === "False" ? "red" : undefined;
  if (header === "STATE" || header === "PHASE") return cell === "Failed" ? "red" : undefined;
  if (header === "TYPE") return cell === "Warning" ? "yellow" : undefined;
  return undefined;
}

/** `text` in ANSI colour. */
export function paint(text: string, colour: keyof typeof CODES): string {
  return `\x1b[${CODES[colour]}m${text}\x1b[0m`;
}
