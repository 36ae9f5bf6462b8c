/** Adding lv's finalizer ends a pass (as Cluster API does): the next pass starts from the stored object. */
import assert from "node:assert/strict";
import type { Domain, Kind } from "../../src/api/types.ts";
import { FINALIZER } from "../../src/controller/context.ts";
import { basicExample, createAll, mustGet, newHarness, passOnce } from "./harness.ts";

const OBJECTS: [Kind, string][] = [["Box", "tiny"], ["Volume", "web-data"], ["Network", "basic-net"], [
  "Domain",
  "web",
]];

Deno.test("every reconciler: the pass that adds the finalizer does nothing else and asks to be requeued", async (t) => {
  for (const [kind, name] of OBJECTS) {
    await t.step(`${kind}/${name}`, async () => {
      const h = await newHarness({ defaultPool: true });
      try {
        const all = basicExample();
        (all["Domain/web"] as Domain).spec.communicator = "none";
        await createAll(h, Object.values(all));
        const head = await h.store.head();
        const mark = h.fake.mark();
        const r = await passOnce(h, kind, name);
        assert.equal(r.error, undefined, String(r.error));
        assert.deepEqual(r.result, { requeue: true });
        assert.deepEqual(h.fake.log.slice(mark), [], "no libvirt call in that pass");
        const stored = await mustGet(h, kind, name);
        assert.deepEqual(stored.metadata.finalizers, [FINALIZER]);
        assert.deepEqual(stored.status, {}, "no status written from the stale copy");
        assert.equal(await h.store.head(), head + 1, "one write: the finalizer");

        const next = await passOnce(h, kind, name);
        assert.notDeepEqual(next.result, { requeue: true }, "the next pass does the work");
        assert.ok(h.fake.log.length > mark);
      } finally {
        await h.close();
      }
    });
  }
});
