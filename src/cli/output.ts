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

/** stdout and stderr; transfers as bars redrawn in place when stderr is a terminal, else as plain lines. */
export function stdOutput(): Output {
  const enc = new TextEncoder();
  const display = new TransferDisplay({
    write: (t) => Deno.stderr.writeSync(enc.encode(t)),
    tty: Deno.stderr.isTerminal(),
    columns: () => Deno.stderr.isTerminal() ? Deno.consoleSize().columns : 80,
  });
  return {
    out: (t) => Deno.stdout.writeSync(enc.encode(t)),
    err: (t) => display.print(t),
    transfer: (who, p) => display.update(who, p),
    ...(Deno.stderr.isTerminal() ? { terminalColumns: () => Deno.consoleSize().columns } : {}),
  };
}
