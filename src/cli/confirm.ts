/** Asking the person at the terminal a yes/no question (lv destroy without -f). */

/**
 * Asks `question` on stderr and reads one line from stdin: true for y or yes. Undefined when stdin is not a
 * terminal: nobody can answer, and the caller refuses rather than guess.
 */
export async function confirm(question: string): Promise<boolean | undefined> {
  if (!Deno.stdin.isTerminal()) return undefined;
  await Deno.stderr.write(new TextEncoder().encode(`${question} [y/N] `));
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  while (true) {
    const n = await Deno.stdin.read(buf);
    if (n === null || buf[0] === 10) break;
    bytes.push(buf[0]);
  }
  return /^\s*y(es)?\s*$/i.test(new TextDecoder().decode(new Uint8Array(bytes)));
}
