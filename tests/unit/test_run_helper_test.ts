/** The tests' command runner never hangs a test: what outlives its limit is killed and reported. */
import assert from "node:assert/strict";
import { run } from "../integration/helpers.ts";

Deno.test("run(): a command past its limit is killed with its children, and its output so far is shown", async () => {
  const started = Date.now();
  const e = await run("sh", ["-c", "echo started; sleep 300 & sleep 300; echo never"], { timeoutMs: 500 })
    .then(() => undefined, (e: Error) => e);
  assert.ok(e, "run() returned although the command never ended");
  assert.match(e.message, /still running after 0\.5s/);
  assert.match(e.message, /sleep 300/, "the process tree is listed");
  assert.match(e.message, /stdout so far:\nstarted\n/);
  assert.ok(Date.now() - started < 10_000);
});

Deno.test("run(): a command that exits while its child holds the output open is reported, not waited on", async () => {
  const e = await run("sh", ["-c", "sleep 3 & echo parent done"], { pipeGraceMs: 300 })
    .then(() => undefined, (e: Error) => e);
  assert.ok(e);
  assert.match(e.message, /exited 0, but a process it started still holds its output open/);
  assert.match(e.message, /parent done/);
});

Deno.test("run(): output and exit code of a command that ends", async () => {
  const r = await run("sh", ["-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(r, { code: 3, stdout: "out\n", stderr: "err\n" });
});
