/**
 * planApply()'s short cut for a file applied again unchanged: the same record and the stored object still
 * holding the file's values gives "unchanged" without the merge; it agrees with the full merge (reached
 * with an equivalent record written another way) on every object of the examples.
 */
import assert from "node:assert/strict";
import { LAST_APPLIED_ANNOTATION } from "../../src/api/merge.ts";
import type { AnyResource, Domain } from "../../src/api/types.ts";
import { planApply } from "../../src/cli/apply_plan.ts";
import { parseManifests } from "../../src/manifest/parse.ts";

function examples(): AnyResource[] {
  const out: AnyResource[] = [];
  for (const file of ["basic.yaml", "cloud-image.yaml", "machine.yaml", "multi-machine.yaml"]) {
    const path = new URL(`../../examples/${file}`, import.meta.url);
    const { resources, problems } = parseManifests(Deno.readTextFileSync(path), file);
    assert.deepEqual(problems, [], file);
    out.push(...resources);
  }
  return out;
}

/** The same record as JSON with its keys in reverse order: parsed alike, but not the same string. */
function reordered(record: string): string {
  const turn = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(turn)
      : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, turn(x)]))
      : v;
  return JSON.stringify(turn(JSON.parse(record)));
}

Deno.test("an unchanged file is unchanged by the short cut and by the full merge alike", () => {
  for (const obj of examples()) {
    const live = planApply(obj, undefined).next;
    const fast = planApply(obj, live);
    assert.equal(fast.result, "unchanged", `${obj.kind}/${obj.metadata.name}`);
    assert.equal(fast.next, live);
    const other = structuredClone(live);
    const record = other.metadata.annotations[LAST_APPLIED_ANNOTATION];
    other.metadata.annotations[LAST_APPLIED_ANNOTATION] = reordered(record);
    assert.notEqual(other.metadata.annotations[LAST_APPLIED_ANNOTATION], record);
    const full = planApply(obj, other);
    assert.equal(full.result, "unchanged", `${obj.kind}/${obj.metadata.name}: full merge`);
    assert.deepEqual(full.next.spec, live.spec);
    assert.deepEqual(full.next.metadata.labels, live.metadata.labels);
  }
});

Deno.test("the short cut does not hide a change someone made to a field the file sets", () => {
  const obj = examples().find((o): o is Domain => o.kind === "Domain")!;
  const live = planApply(obj, undefined).next as Domain;
  live.spec.memory = live.spec.memory + 1;
  const plan = planApply(obj, live);
  assert.equal(plan.result, "configured");
  assert.equal((plan.next as Domain).spec.memory, (obj as Domain).spec.memory);
});

Deno.test("a field the file does not set keeps the live value and the apply stays unchanged", () => {
  const obj = examples().find((o): o is Domain => o.kind === "Domain")!;
  const live = planApply(obj, undefined).next as Domain;
  live.metadata.labels = { ...live.metadata.labels, "someone-else": "yes" };
  const plan = planApply(obj, live);
  assert.equal(plan.result, "unchanged");
  assert.equal(plan.next.metadata.labels["someone-else"], "yes");
});
