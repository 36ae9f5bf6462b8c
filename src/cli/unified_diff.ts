/** A unified diff of two texts, line by line, as `diff -u` prints it. */

/** Options for {@linkcode unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Name of the old text in the `---` line. Default "a". */
  from?: string;
  /** Name of the new text in the `+++` line. Default "b". */
  to?: string;
  /** Unchanged lines shown around each change. Default 3. */
  context?: number;
}

type Op = { type: " " | "-" | "+"; line: string; a: number; b: number };

/** The edit script from `a` to `b` by longest common subsequence. */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ type: " ", line: a[i++], a: i, b: ++j });
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ type: "-", line: a[i++], a: i, b: j });
    } else ops.push({ type: "+", line: b[j++], a: i, b: j });
  }
  return ops;
}

function lines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\n$/, "").split("\n");
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
}

/** The unified diff from `a` to `b`; "" when they are equal. */
export function unifiedDiff(a: string, b: string, options: UnifiedDiffOptions = {}): string {
  const context = options.context ?? 3;
  const ops = editScript(lines(a), lines(b));
  const changed = ops.map((o, k) => o.type !== " " ? k : -1).filter((k) => k >= 0);
  if (changed.length === 0) return "";
  const out = [`--- ${options.from ?? "a"}`, `+++ ${options.to ?? "b"}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context);
    let end = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= end) {
      k++;
      end = Math.min(ops.length, changed[k] + context + 1);
    }
    k++;
    const hunk = ops.slice(start, end);
    const aLines = hunk.filter((o) => o.type !== "+").length;
    const bLines = hunk.filter((o) => o.type !== "-").length;
    const aStart = (start === 0 ? 0 : ops[start - 1].a) + 1;
    const bStart = (start === 0 ? 0 : ops[start - 1].b) + 1;
    out.push(`@@ -${range(aStart, aLines)} +${range(bStart, bLines)} @@`);
    for (const o of hunk) out.push(`${o.type}${o.line}`);
  }
  return out.join("\n") + "\n";
}
