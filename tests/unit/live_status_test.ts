/**
 * Live status lines: on a terminal, apply redraws one line per object (phase, what it waits for, seconds)
 * in place; on anything else it prints events as plain lines (cli_test.ts checks those).
 */
import assert from "node:assert/strict";
import { apply } from "../../src/cli/apply.ts";
import { liveWanted, redraw, statusLines } from "../../src/cli/live_status.ts";
import { capture } from "./cli_run.ts";
import { example, EXAMPLES_DIR } from "./harness.ts";
import { newCliHarness } from "./cli_harness.ts";

const ESC = "\x1b";

Deno.test("live lines only on a terminal, not with TERM=dumb", () => {
  assert.equal(liveWanted(() => 80, () => "xterm"), true);
  assert.equal(liveWanted(() => 80, (n) => n === "TERM" ? "dumb" : undefined), false);
  assert.equal(liveWanted(undefined, () => "xterm"), false);
});

Deno.test("statusLines: name, phase, seconds and what each object waits for, aligned and cut to width", () => {
  const web = example("Domain", "web");
  web.status = {
    phase: "Pending",
    conditions: [{
      type: "Ready",
      status: "False",
      reason: "WaitingForVolume",
      message: "volume/web is not Ready",
      lastTransitionTime: "",
    }],
  };
  const net = example("Network", "basic-net");
  net.status = {
    phase: "Active",
    conditions: [{ type: "Ready", status: "True", reason: "Active", message: "", lastTransitionTime: "" }],
  };
  const keys = [web, net].map((o) => ({ kind: o.kind, namespace: "default", name: o.metadata.name }));
  assert.deepEqual(statusLines(keys, [web, net], 12_500), [
    "domain/web         Pending   12s  WaitingForVolume: volume/web is not Ready",
    "network/basic-net  Active    12s  ready",
  ]);
  assert.equal(statusLines(keys, [web, net], 0, 30)[0], "domain/web         Pending   …");
  assert.equal(redraw(0, ["a", "b"]), "a\nb\n");
  assert.equal(redraw(2, ["c"]), `${ESC}[2A${ESC}[Jc\n`);
});

Deno.test("apply on a terminal redraws status lines instead of printing events", async () => {
  const h = await newCliHarness();
  const output = Object.assign(capture(), { terminalColumns: () => 120 });
  try {
    await apply({ ...h.rt, output }, {
      files: [`${EXAMPLES_DIR}/basic.yaml`],
      wait: true,
      timeoutMs: 30_000,
    });
    assert.doesNotMatch(output.stderr, /domain\/web: Started:/);
    assert.ok(output.stderr.includes(`${ESC}[4A${ESC}[J`), "redrawn in place");
    const last = output.stderr.split(`${ESC}[J`).at(-1)!;
    assert.match(last, /^domain\/web +\S+ +\d+s +ready$/m);
    assert.equal(last.trimEnd().split("\n").length, 4);
  } finally {
    await h.close();
  }
});
