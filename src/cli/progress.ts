/**
 * Showing byte transfers (box downloads and uploads) on stderr: on a terminal, one bar per transfer
 * (bytes, rate, ETA) redrawn in place below the other output; otherwise a plain line when a transfer
 * starts, every few seconds while it runs, and when it ends.
 */
import type { TransferProgress } from "../box/transfer.ts";

export interface TransferDisplayOptions {
  /** Where the text goes (stderr). */
  write(text: string): void;
  /** Draw bars in place (stderr is a terminal). */
  tty: boolean;
  /** Terminal width. Default 80. */
  columns?: () => number;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
  /** Without a terminal: a line per transfer at most this often. Default 5000 ms. */
  lineEveryMs?: number;
  /** On a terminal: redraw at most this often. Default 100 ms. */
  redrawEveryMs?: number;
}

interface Active {
  /** Who the transfer is for: `box/debian`. */
  who: string;
  p: TransferProgress;
  startedAt: number;
  startDone: number;
  lastLine: number;
  /** The bar's width on a terminal this wide (0: no bar). */
  bar?: { width: number; bar: number };
}

/** Shows the transfers of several objects at once; {@linkcode print} writes other output around them. */
export class TransferDisplay {
  #o: Required<Omit<TransferDisplayOptions, "columns" | "now">> & {
    columns: () => number;
    now: () => number;
  };
  #active = new Map<string, Active>();
  /** Bar lines on screen below the cursor's line start (terminal only). */
  #drawn = 0;
  #lastDraw = 0;

  constructor(options: TransferDisplayOptions) {
    this.#o = {
      write: options.write,
      tty: options.tty,
      columns: options.columns ?? (() => 80),
      now: options.now ?? Date.now,
      lineEveryMs: options.lineEveryMs ?? 5000,
      redrawEveryMs: options.redrawEveryMs ?? 100,
    };
  }

  /** Takes one report of the transfer `p.label` made for `who` (e.g. `box/debian`). */
  update(who: string, p: TransferProgress): void {
    const key = `${who}\0${p.direction}\0${p.label}`;
    const now = this.#o.now();
    let a = this.#active.get(key);
    const first = !a;
    if (!a) {
      a = { who, p, startedAt: now, startDone: p.done, lastLine: now };
      this.#active.set(key, a);
    }
    a.p = p;
    if (p.finished) {
      this.#active.delete(key);
      const line = `${finishedLine(a, now)}\n`;
      if (this.#o.tty) this.#redraw(line);
      else this.#o.write(line);
      return;
    }
    if (this.#o.tty) {
      if (first || now - this.#lastDraw >= this.#o.redrawEveryMs) this.#redraw("");
    } else if (first) {
      this.#o.write(`${progressLine(a, now)}\n`);
    } else if (now - a.lastLine >= this.#o.lineEveryMs) {
      a.lastLine = now;
      this.#o.write(`${progressLine(a, now)}\n`);
    }
  }

  /** Writes text that is not progress (whole lines), keeping the bars below it intact. */
  print(text: string): void {
    if (this.#o.tty && this.#drawn > 0) this.#redraw(text);
    else this.#o.write(text);
  }

  /** Whether any transfer is running. */
  get busy(): boolean {
    return this.#active.size > 0;
  }

  /** Erases the bars, writes `above`, draws the bars again. */
  #redraw(above: string): void {
    const now = this.#o.now();
    // A terminal that does not know its size (a pty without one, e.g. under script(1)) says 0 columns.
    const columns = this.#o.columns();
    const width = Math.max(40, (columns > 0 ? columns : 80) - 1);
    const erase = this.#drawn > 0 ? `\x1b[${this.#drawn}A\x1b[J` : "";
    const bars = [...this.#active.values()].map((a) => `${barLine(a, now, width)}\n`);
    this.#drawn = bars.length;
    this.#lastDraw = now;
    this.#o.write(erase + above + bars.join(""));
  }
}

function verb(p: TransferProgress, done: boolean): string {
  if (p.direction === "download") return done ? "downloaded" : "downloading";
  return done ? "uploaded" : "uploading";
}

/** Bytes per second since the display first saw the transfer; undefined while too early to tell. */
function rateOf(a: Active, now: number): number | undefined {
  const seconds = (now - a.startedAt) / 1000;
  if (seconds < 0.5) return undefined;
  return (a.p.done - a.startDone) / seconds;
}

function etaOf(a: Active, now: number): number | undefined {
  const rate = rateOf(a, now);
  if (!rate || a.p.total === undefined) return undefined;
  return Math.max(0, (a.p.total - a.p.done) / rate);
}

/** `box/debian: uploading box-debian: 12.0 MiB of 40.0 MiB (30%), 4.0 MiB/s, 7s left` */
function progressLine(a: Active, now: number): string {
  const { p } = a;
  const rate = rateOf(a, now);
  const eta = etaOf(a, now);
  return `${a.who}: ${verb(p, false)} ${p.label}: ${formatBytes(p.done)}${
    p.total !== undefined ? ` of ${formatBytes(p.total)} (${percent(p)}%)` : ""
  }${rate !== undefined ? `, ${formatBytes(rate)}/s` : ""}${
    eta !== undefined ? `, ${formatDuration(eta)} left` : ""
  }`;
}

/** `box/debian: uploaded box-debian: 40.0 MiB in 10s (4.0 MiB/s)`, or where a failed one stopped. */
function finishedLine(a: Active, now: number): string {
  const { p } = a;
  const seconds = (now - a.startedAt) / 1000;
  if (p.ok === false) {
    return `${a.who}: ${verb(p, false)} ${p.label} stopped at ${formatBytes(p.done)}${
      p.total !== undefined ? ` of ${formatBytes(p.total)}` : ""
    }`;
  }
  const moved = p.done - a.startDone;
  return `${a.who}: ${verb(p, true)} ${p.label}: ${formatBytes(p.done)} in ${formatDuration(seconds)}${
    seconds >= 0.5 ? ` (${formatBytes(moved / seconds)}/s)` : ""
  }`;
}

/** `box/debian uploading box-debian [=====>     ]  45%  12.0/40.0 MiB  4.0 MiB/s  ETA 7s`, fit to width. */
function barLine(a: Active, now: number, width: number): string {
  const { p } = a;
  const rate = rateOf(a, now);
  const eta = etaOf(a, now);
  const tail = [
    p.total !== undefined ? `${String(percent(p)).padStart(3)}%` : "",
    p.total !== undefined ? doneOfTotal(p.done, p.total) : formatBytes(p.done),
    rate !== undefined ? `${formatBytes(rate)}/s` : "--/s",
    p.total !== undefined ? `ETA ${eta !== undefined ? formatDuration(eta) : "--"}` : "",
  ].filter((s) => s).join("  ");
  let head = `${a.who} ${verb(p, false)} ${p.label}`;
  // The bar's width is chosen once per transfer (and terminal width), leaving the numbers 40 columns, so it
  // does not jump as they change; on a narrow terminal there is no bar (the percentage stays), and the
  // label is shortened only when even that does not fit.
  if (a.bar?.width !== width) {
    const w = p.total !== undefined ? Math.min(30, width - head.length - 40 - 3) : 0;
    a.bar = { width, bar: w >= 8 ? w : 0 };
  }
  const bar = a.bar.bar > 0 ? ` ${drawBar(p, a.bar.bar)}` : "";
  const room = width - tail.length - bar.length - 2;
  if (head.length > room) head = room > 1 ? `${head.slice(0, room - 1)}…` : "";
  return `${head}${bar}  ${tail}`.slice(0, width);
}

/** `12.0/40.0 MiB`, or `512 B/40.0 MiB` when the units differ. */
function doneOfTotal(done: number, total: number): string {
  const [d, t] = [formatBytes(done), formatBytes(total)];
  const unit = t.slice(t.indexOf(" "));
  return d.endsWith(unit) && unit !== " B" ? `${d.slice(0, -unit.length)}/${t}` : `${d}/${t}`;
}

function drawBar(p: TransferProgress, width: number): string {
  const inner = width - 2;
  const filled = p.total ? Math.min(inner, Math.floor((p.done / p.total) * inner)) : 0;
  const head = filled < inner && filled > 0 ? ">" : "";
  return `[${"=".repeat(Math.max(0, filled - head.length))}${head}${" ".repeat(inner - filled)}]`;
}

function percent(p: TransferProgress): number {
  if (!p.total) return 100;
  return Math.min(100, Math.floor((p.done / p.total) * 100));
}

/** 512 → "512 B", 1536 → "1.5 KiB", 5 << 20 → "5.0 MiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** 7 → "7s", 62 → "1m02s", 3725 → "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}
