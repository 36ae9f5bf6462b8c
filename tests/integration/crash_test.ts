/**
 * Crash safety: `kill -9` of `lv apply -f basic.yaml` at each stage of its work, recognised from the virsh
 * commands it has started (its LV_VIRSH_LOG), then
 *   - a second `lv apply` converges to exactly what a clean run gives (same virsh lists, volumes, content of
 *     the box volume, network, domain, store), with no duplicate or orphaned volume, and
 *   - `lv delete -f` right after such a crash leaves virsh's lists as they were before.
 *
 * The manifest is examples/basic.yaml unchanged, in a temp directory beside a 16 MiB patterned tiny.img (the
 * shipped one is all zeros, so a box volume left empty by an interrupted upload would pass for a complete
 * one). The kill goes to lv's process group (lv runs under setsid): lv dies together with the virsh command
 * it had in flight, so an upload is cut mid-stream. One stage kills lv alone, leaving its virsh orphaned.
 */
import assert from "node:assert/strict";
import {
  assertClean,
  basicFingerprint,
  basicWithPatternedBox,
  type Lists,
  lists,
  nth,
  readVirshLog,
  scrubBasic,
  spawnLv,
  type Stage,
  waitForStage,
} from "./crash_helpers.ts";
import { Lv, requireLab, virsh } from "./helpers.ts";

interface CrashStage extends Stage {
  /** Kill lv alone instead of its process group. */
  lvOnly?: boolean;
  /** Run before the apply that is killed. */
  prepare?: () => Promise<void>;
  /** lv's environment for the apply that is killed. */
  env?: Record<string, string>;
}

/** Where the lab's default pool lives (a private directory of the lab's). */
const POOL_DIR = "/var/lib/libvirt/images";

/**
 * Removes the default pool and its (empty) directory, as on a host where libvirt has no pool yet: lv creates
 * both. Only in the lab, whose /var/lib/libvirt is its own.
 */
async function removeDefaultPool(): Promise<void> {
  assert.ok(Deno.env.get("LV_LAB"));
  await virsh("pool-destroy", "default").catch(() => {});
  await virsh("pool-undefine", "default").catch(() => {});
  try {
    Deno.removeSync(POOL_DIR); // fails when not empty: then it stays
  } catch { /* absent or not empty */ }
}

const STAGES: CrashStage[] = [
  { name: "store written, first virsh command", reached: (calls) => calls.length > 0 },
  // No default pool yet: lv defines it, builds its directory, sets autostart (src/controller/storage.ts:38-40).
  {
    name: "pool-build (no pool before; defined, its directory not yet made)",
    reached: nth("pool-build"),
    prepare: removeDefaultPool,
  },
  {
    name: "pool-build, lv alone killed (no pool before; the build completes, autostart is never set)",
    reached: nth("pool-build"),
    prepare: removeDefaultPool,
    lvOnly: true,
  },
  { name: "vol-create (first volume being created)", reached: nth("vol-create") },
  // lv copies the box into the volume's file itself (local libvirt): killed as the copy starts (libvirt's
  // size of the new volume just read), and killed alone (its cp finishes).
  { name: "box copy starting (vol-info before cp)", reached: nth("vol-info") },
  { name: "box copy starting, lv alone killed (its cp finishes)", reached: nth("vol-info"), lvOnly: true },
  // Streamed through libvirtd as on a remote host (LV_UPLOAD=stream).
  { name: "vol-upload (box upload in flight)", reached: nth("vol-upload"), env: { LV_UPLOAD: "stream" } },
  {
    name: "vol-upload, lv alone killed (its virsh finishes)",
    reached: nth("vol-upload"),
    lvOnly: true,
    env: { LV_UPLOAD: "stream" },
  },
  { name: "net-start (network defined)", reached: nth("net-start") },
  { name: "third vol-create (the domain's overlay)", reached: nth("vol-create", 3) },
  { name: "define (domain being defined)", reached: nth("define") },
  { name: "start (domain being started)", reached: nth("start") },
];

/** Runs `lv apply -f manifest` and kills it once `stage` is reached; returns what happened, for the log. */
async function crashAt(lv: Lv, manifest: string, stage: CrashStage): Promise<string> {
  try {
    Deno.removeSync(lv.virshLog);
  } catch { /* none */ }
  await stage.prepare?.();
  const child = spawnLv(lv, ["apply", "-f", manifest, "--timeout=120s"], { env: stage.env });
  let calls: string[][];
  try {
    calls = await waitForStage(child, lv.virshLog, stage);
  } finally {
    // Whatever happened, lv must not outlive the step.
    try {
      stage.lvOnly ? child.killLv() : child.killGroup();
    } catch { /* already gone */ }
  }
  const out = await child.output;
  assert.equal(out.signal, "SIGKILL", `lv was not killed but exited ${out.code}:\n${out.stderr}`);
  const after = readVirshLog(lv.virshLog).length - calls.length;
  return `killed after ${calls.length} virsh commands (last ${
    JSON.stringify(calls.at(-1))
  }; ${after} more logged)`;
}

Deno.test("kill -9 of lv apply at each stage: apply again converges, delete removes everything", async (t) => {
  requireLab();
  const dir = Deno.makeTempDirSync({ prefix: "lv-crash-" });
  const { manifest, sha256 } = basicWithPatternedBox(dir);
  const before = await lists();
  let reference: Record<string, unknown> | undefined;
  const timings: string[] = [];

  /**
   * A fresh lv home for one step; whatever a failed step leaves is removed afterwards (a step that passed
   * checked that nothing is left: assertClean).
   */
  const withLv = async (fn: (lv: Lv) => Promise<void>) => {
    const lv = new Lv();
    let passed = false;
    try {
      await fn(lv);
      passed = true;
    } finally {
      if (!passed) {
        await lv.run(["delete", "-f", manifest, "--ignore-not-found", "--timeout=60s"]);
        await scrubBasic();
      }
      // A pool a crash left half made (not running, or not autostarted) would fail the next steps' comparison
      // with the reference: lv makes a new one.
      const pool = await virsh("pool-info", "default").catch(() => "");
      if (!/State:\s+running/.test(pool) || !/Autostart:\s+yes/.test(pool)) await removeDefaultPool();
      lv.cleanup();
    }
  };

  try {
    await t.step("a clean run: the reference result", async () => {
      await withLv(async (lv) => {
        await lv.ok(["apply", "-f", manifest, "--timeout=120s"]);
        reference = await basicFingerprint(lv, { before });
        const fp = reference as { lists: Lists; expectedLists: Lists; boxSha256: string };
        assert.deepEqual(fp.lists, fp.expectedLists);
        assert.equal(fp.boxSha256, sha256, "the box volume holds the image");
        await lv.ok(["delete", "-f", manifest, "--timeout=60s"]);
        await assertClean(lv, before);
      });
    });

    // LV_CRASH_ONLY=pool runs only the stages whose name contains "pool" (after the reference run).
    const only = Deno.env.get("LV_CRASH_ONLY");
    for (const stage of STAGES.filter((s) => !only || s.name.includes(only))) {
      await t.step({
        name: `crash at ${stage.name}: apply again converges to the clean run's result`,
        fn: async () => {
          assert.ok(reference, "needs the reference run");
          await withLv(async (lv) => {
            const what = await crashAt(lv, manifest, stage);
            const started = Date.now();
            const r = await lv.run(["apply", "-f", manifest, "--timeout=120s"]);
            const seconds = (Date.now() - started) / 1000;
            assert.equal(r.code, 0, `second apply exited ${r.code}\n${r.stdout}${r.stderr}`);
            assert.deepEqual(await basicFingerprint(lv, { before }), reference);
            await lv.ok(["delete", "-f", manifest, "--timeout=60s"]);
            await assertClean(lv, before);
            timings.push(`${stage.name}: ${what}; apply again took ${seconds.toFixed(1)}s`);
          });
        },
      });

      await t.step(`crash at ${stage.name}: delete right after removes everything`, async () => {
        await withLv(async (lv) => {
          await crashAt(lv, manifest, stage);
          const started = Date.now();
          const r = await lv.run(["delete", "-f", manifest, "--ignore-not-found", "--timeout=120s"]);
          const seconds = (Date.now() - started) / 1000;
          assert.equal(r.code, 0, `delete exited ${r.code}\n${r.stdout}${r.stderr}`);
          await assertClean(lv, before);
          timings.push(`${stage.name}: delete after the crash took ${seconds.toFixed(1)}s`);
        });
      });
    }
  } finally {
    console.error(timings.map((l) => `  ${l}`).join("\n"));
    Deno.removeSync(dir, { recursive: true });
  }
});
