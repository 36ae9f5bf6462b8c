/**
 * `deno task bench` runs: bench/run.ts (what bench/run.sh starts in its lab) measures one item against the
 * lab's libvirtd and reports it as the README and bench/README.md show, table on stdout and JSON.
 */
import assert from "node:assert/strict";
import { requireLab, ROOT, run } from "./helpers.ts";

Deno.test("bench/run.ts --only=import: lv and by hand side by side, a table and its JSON", async () => {
  requireLab();
  const out = Deno.makeTempDirSync({ prefix: "lv-bench-out-" });
  try {
    const r = await run(Deno.execPath(), [
      "run",
      "-A",
      "--no-check",
      "bench/run.ts",
      "--only=import",
      "--runs=1",
      "--import-data=8",
      `--out=${out}`,
    ], { cwd: ROOT });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[0], /^item\s+measure\s+median\s+min\.\.max\s+n\s+target/);
    const ratio = lines.find((l) => /^4 import .*lv \/ by hand \(pairwise\), 1 GiB sparse qcow2/.test(l));
    assert.ok(ratio, r.stdout);
    assert.match(ratio, /\d+\.\d\d x .*<= 1\.2 x\s+(ok|MISSED)$/);
    const written = r.stdout.match(/^written: (.*\/bench-\d{8}T\d{6}\.json)$/m);
    assert.ok(written, r.stdout);
    const report = JSON.parse(Deno.readTextFileSync(written[1]));
    assert.deepEqual(report.errors, {});
    assert.deepEqual(report.options.only, ["import"]);
    const rows = report.rows.filter((x: { item: string }) => x.item === "4 import");
    assert.ok(rows.length >= 4, JSON.stringify(report.rows));
    for (const row of rows) {
      assert.ok(row.samples.every((v: number) => Number.isFinite(v) && v > 0), row.what);
    }
    assert.deepEqual(Deno.readTextFileSync(`${out}/latest.json`), Deno.readTextFileSync(written[1]));
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});
