/**
 * `lv apply --restart` asks a restart (the reload annotation) of the running Domains of the files that need
 * one: a next-boot change made by this apply, or one still pending (RestartRequired); nothing else.
 */
import assert from "node:assert/strict";
import { setCondition } from "../../src/api/conditions.ts";
import { RELOAD_ANNOTATION } from "../../src/api/requests.ts";
import type { Domain } from "../../src/api/types.ts";
import { applyOne } from "../../src/cli/apply.ts";
import type { Runtime } from "../../src/cli/runtime.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { newHarness } from "./harness.ts";

function file(spec: string): Domain {
  const text =
    `apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata: {name: w}\nspec: {communicator: none, ${spec}}\n`;
  return parseManifests(text, "w.yaml").resources[0] as Domain;
}

interface Case {
  name: string;
  before: string;
  after: string;
  restart: boolean;
  /** RestartRequired=True in the stored status before the apply. */
  pending?: boolean;
  want: { result: string; restarted: boolean };
}

const CASES: Case[] = [
  {
    name: "memory beyond the maximum: restarted",
    before: "memory: 256",
    after: "memory: 512",
    restart: true,
    want: { result: "configured", restarted: true },
  },
  {
    name: "memory within maxMemory is live: not restarted",
    before: "memory: 256, maxMemory: 1024",
    after: "memory: 512, maxMemory: 1024",
    restart: true,
    want: { result: "configured", restarted: false },
  },
  {
    name: "a change pending from an earlier apply (RestartRequired): restarted, though the file is unchanged",
    before: "memory: 512",
    after: "memory: 512",
    restart: true,
    pending: true,
    want: { result: "configured", restarted: true },
  },
  {
    name: "without --restart: nothing restarted",
    before: "memory: 256",
    after: "memory: 512",
    restart: false,
    pending: true,
    want: { result: "configured", restarted: false },
  },
  {
    name: "a stopped domain: nothing to restart",
    before: "memory: 256, state: Stopped",
    after: "memory: 512, state: Stopped",
    restart: true,
    want: { result: "configured", restarted: false },
  },
  {
    name: "nothing changed, nothing pending: unchanged",
    before: "memory: 256",
    after: "memory: 256",
    restart: true,
    want: { result: "unchanged", restarted: false },
  },
];

Deno.test("applyOne() with restart asks a restart only of Domains that need one", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const h = await newHarness();
      try {
        const rt = { store: h.store } as Runtime;
        await applyOne(rt, file(c.before));
        if (c.pending) {
          const stored = (await h.store.get({ kind: "Domain", namespace: "default", name: "w" }))!;
          setCondition(stored.status, {
            type: "RestartRequired",
            status: "True",
            reason: "ConfigChanged",
            message: "spec.memory takes effect at the next boot",
          });
          await h.store.updateStatus(stored);
        }
        const result = await applyOne(rt, file(c.after), { restart: c.restart });
        const after = (await h.store.get({ kind: "Domain", namespace: "default", name: "w" }))!;
        assert.deepEqual(
          { result, restarted: after.metadata.annotations[RELOAD_ANNOTATION] !== undefined },
          c.want,
        );
      } finally {
        await h.close();
      }
    });
  }
});
