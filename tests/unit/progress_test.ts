/** TransferDisplay: bars redrawn in place on a terminal, plain lines every few seconds otherwise. */
import assert from "node:assert/strict";
import { formatBytes, formatDuration, TransferDisplay } from "../../src/cli/progress.ts";
import type { TransferProgress } from "../../src/box/transfer.ts";

const MiB = 1 << 20;

function display(tty: boolean, options: { columns?: number } = {}) {
  let t = 0;
  const out: string[] = [];
  const d = new TransferDisplay({
    write: (s) => out.push(s),
    tty,
    now: () => t,
    columns: () => options.columns ?? 100,
  });
  return { d, out, advance: (ms: number) => t += ms };
}

const up = (done: number, extra: Partial<TransferProgress> = {}): TransferProgress => ({
  direction: "upload",
  label: "box-debian",
  done,
  total: 40 * MiB,
  ...extra,
});

Deno.test("TransferDisplay without a terminal: a line at the start, every 5 s, and at the end", () => {
  const { d, out, advance } = display(false);
  d.update("box/debian", up(0));
  advance(1000);
  d.update("box/debian", up(4 * MiB)); // too soon for a line
  advance(4000);
  d.update("box/debian", up(20 * MiB));
  advance(1000);
  d.update("box/debian", up(24 * MiB));
  advance(5000);
  d.update("box/debian", up(40 * MiB, { finished: true, ok: true }));
  assert.deepEqual(out, [
    "box/debian: uploading box-debian: 0 B of 40.0 MiB (0%)\n",
    "box/debian: uploading box-debian: 20.0 MiB of 40.0 MiB (50%), 4.0 MiB/s, 5s left\n",
    "box/debian: uploaded box-debian: 40.0 MiB in 11s (3.6 MiB/s)\n",
  ]);
  assert.equal(out.join("").includes("\x1b"), false, "no escape sequences without a terminal");
  assert.equal(d.busy, false);
});

Deno.test("TransferDisplay without a terminal: a failed transfer says where it stopped", () => {
  const { d, out, advance } = display(false);
  d.update("box/debian", up(0));
  advance(2000);
  d.update("box/debian", up(12 * MiB, { finished: true, ok: false }));
  assert.equal(
    out.at(-1),
    "box/debian: uploading box-debian stopped at 12.0 MiB of 40.0 MiB\n",
  );
});

Deno.test("TransferDisplay on a terminal: a bar with bytes, rate and ETA, redrawn in place", () => {
  const { d, out, advance } = display(true);
  d.update("box/debian", up(0));
  assert.equal(out.length, 1);
  assert.equal(
    out[0],
    `box/debian uploading box-debian [${" ".repeat(23)}]    0%  0 B/40.0 MiB  --/s  ETA --\n`,
  );
  advance(50);
  d.update("box/debian", up(MiB)); // within the redraw interval: not drawn
  assert.equal(out.length, 1);
  advance(1950);
  d.update("box/debian", up(10 * MiB));
  assert.equal(out.length, 2);
  // Cursor up one line, clear to the end of the screen, the new bar.
  const bar25 = `box/debian uploading box-debian [====>${
    " ".repeat(18)
  }]   25%  10.0/40.0 MiB  5.0 MiB/s  ETA 6s\n`;
  assert.equal(out[1], `\x1b[1A\x1b[J${bar25}`);
  // Other output goes above the bar, which is drawn again below it.
  d.print("box/debian: Uploading: something happened\n");
  assert.equal(out[2], `\x1b[1A\x1b[Jbox/debian: Uploading: something happened\n${bar25}`);
  advance(6000);
  d.update("box/debian", up(40 * MiB, { finished: true, ok: true }));
  assert.equal(
    out.at(-1),
    "\x1b[1A\x1b[Jbox/debian: uploaded box-debian: 40.0 MiB in 8s (5.0 MiB/s)\n",
  );
  // Nothing on screen any more: plain output is written as is.
  d.print("done\n");
  assert.equal(out.at(-1), "done\n");
});

Deno.test("TransferDisplay on a terminal: two transfers, two bars; lines fit the width", () => {
  const { d, out, advance } = display(true, { columns: 60 });
  d.update("box/a", up(0));
  d.update("box/b", {
    direction: "download",
    label: "https://example.org/some/very/long/path/to/a/vagrant/box/file.box",
    done: 0,
  });
  advance(1000);
  d.update("box/a", up(8 * MiB));
  const screen = out.at(-1)!;
  assert.ok(screen.startsWith("\x1b[2A\x1b[J"));
  const lines = screen.replace("\x1b[2A\x1b[J", "").split("\n").filter((l) => l);
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(line.length <= 59, `${line.length}: ${line}`);
  assert.ok(lines[1].startsWith("box/b downloading https://example.org/"), lines[1]);
  assert.ok(lines[1].endsWith("…  0 B  0 B/s"), lines[1]);
});

Deno.test("formatBytes() and formatDuration()", () => {
  assert.deepEqual([0, 512, 1536, 5 * MiB, 3 * 1024 * MiB].map(formatBytes), [
    "0 B",
    "512 B",
    "1.5 KiB",
    "5.0 MiB",
    "3.0 GiB",
  ]);
  assert.deepEqual([0, 7, 62, 3725].map(formatDuration), ["0s", "7s", "1m02s", "1h02m"]);
});

Deno.test("TransferDisplay on a terminal that reports 0 columns draws for 80; the bar keeps its width", () => {
  const { d, out, advance } = display(true, { columns: 0 });
  d.update("box/debian", up(0));
  // 80 columns leave no room for a bar beside this label and the numbers: the numbers stay.
  assert.equal(out[0], "box/debian uploading box-debian    0%  0 B/40.0 MiB  --/s  ETA --\n");
  const bars: number[] = [];
  const small = (done: number) => ({ ...up(done), label: "box-a" });
  d.update("box/a", small(0));
  for (const done of [MiB, 20 * MiB, 39 * MiB]) {
    advance(1000);
    d.update("box/a", small(done));
    const line = out.at(-1)!.split("\n").find((l) => l.includes("box/a uploading"))!;
    assert.ok(line.length <= 79, line);
    bars.push(line.indexOf("]") - line.indexOf("["));
  }
  assert.ok(bars[0] >= 8, String(bars));
  assert.deepEqual(bars, [bars[0], bars[0], bars[0]], "the same width whatever the numbers");
});
