/** Colour: READY True green and False red, Failed red, only on a terminal without NO_COLOR or TERM=dumb. */
import assert from "node:assert/strict";
import { colourWanted } from "../../src/cli/colour.ts";
import { printTable } from "../../src/cli/printers.ts";
import { example } from "./harness.ts";

Deno.test("colour only on a terminal, never with NO_COLOR or TERM=dumb", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(colourWanted(env({ TERM: "xterm-256color" }), true), true);
  assert.equal(colourWanted(env({ TERM: "xterm-256color" }), false), false);
  assert.equal(colourWanted(env({ TERM: "xterm", NO_COLOR: "1" }), true), false);
  assert.equal(colourWanted(env({ TERM: "dumb" }), true), false);
});

Deno.test("a coloured table has the plain table's layout, READY and Failed painted", () => {
  const ready = example("Domain", "web");
  ready.status = {
    phase: "Running",
    conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "", lastTransitionTime: "" }],
  };
  const failed = example("Domain", "web");
  failed.metadata.name = "db-longer-name";
  failed.status = {
    phase: "Failed",
    conditions: [{ type: "Ready", status: "False", reason: "Failed", message: "x", lastTransitionTime: "" }],
  };
  const now = new Date();
  const plain = printTable("Domain", [ready, failed], false, { now });
  const coloured = printTable("Domain", [ready, failed], false, { now, colour: true });
  const ESC = "\x1b";
  assert.equal(coloured.replaceAll(new RegExp(`${ESC}\\[\\d+m`, "g"), ""), plain);
  assert.ok(coloured.includes(`${ESC}[32mTrue${ESC}[0m`));
  assert.ok(coloured.includes(`${ESC}[31mFalse${ESC}[0m`));
  assert.ok(coloured.includes(`${ESC}[31mFailed${ESC}[0m`));
  assert.ok(!plain.includes(ESC));
});
