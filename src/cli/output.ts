/** Where a command's output goes: results to stdout, progress and warnings to stderr. */
import { TransferDisplay } from "./progress.ts";
import type { TransferProgress } from "../box/transfer.ts";

export interface Output {
  /** Results (resources, tables): stdout. */
  out(text: string): void;
  /** Progress and warnings: stderr. */
  err(text: string): void;
  /** A byte transfer's progress (box download, upload) for `who` ("box/debian"); absent: not shown. */
  transfer?(who: string, progress: TransferProgress): void;
  /** The width of the terminal stderr is, when it is one (live status lines); absent: not a terminal. */
  terminalColumns?(): number;
}

/** Writes all of `bytes` (one write may take only part of them). */
export function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
}

/** stdout and stderr; transfers as bars redrawn in place when stderr is a terminal, else as plain lines. */
export function stdOutput(): Output {
  const enc = new TextEncoder();
  const display = new TransferDisplay({
    write: (t) => writeAll(Deno.stderr, enc.encode(t)),
    tty: Deno.stderr.isTerminal(),
    columns: () => Deno.stderr.isTerminal() ? Deno.consoleSize().columns : 80,
  });
  return {
    out: (t) => writeAll(Deno.stdout, enc.encode(t)),
    err: (t) => display.print(t),
    transfer: (who, p) => display.update(who, p),
    ...(Deno.stderr.isTerminal() ? { terminalColumns: () => Deno.consoleSize().columns } : {}),
  };
}
