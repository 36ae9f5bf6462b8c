/** runHostCommand: a real subprocess, its output streamed to the callbacks and collected, its exit code. */
import assert from "node:assert/strict";
import { runHostCommand } from "../../src/guest/host_command.ts";

Deno.test("runHostCommand streams stdout and stderr as they come and returns them with the exit code", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const r = await runHostCommand(["sh", "-c", "echo one; echo oops >&2; echo two; exit 3"], {
    onStdout: (c) => out.push(c),
    onStderr: (c) => err.push(c),
  });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, "one\ntwo\n");
  assert.equal(r.stderr, "oops\n");
  assert.equal(out.join(""), r.stdout);
  assert.equal(err.join(""), r.stderr);
});

Deno.test("runHostCommand rejects when the program does not exist", async () => {
  await assert.rejects(runHostCommand(["lv-no-such-program"]), Deno.errors.NotFound);
});
