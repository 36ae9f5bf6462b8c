/**
 * Concurrency: two `lv apply` processes on overlapping manifests (examples/basic.yaml, and basic.yaml plus one
 * Volume) with the same LV_HOME, and `lv apply` while `lv controller` runs. Each must exit 0, every object must
 * be created once (one "created" between the two processes), libvirt must end with exactly the objects the
 * manifests declare, and every mutating virsh command must run exactly once across all processes.
 *
 * Two applies that start at the same instant race only the writing (apply --wait=false) many times: they
 * found two bugs, since fixed: both processes creating a new store failed with "database is locked"
 * (journal_mode = wal before busy_timeout), and the loser of applyOne's read-then-create race exited 1 with
 * "box/tiny already exists".
 */
import assert from "node:assert/strict";
import {
  BASIC,
  BASIC_OBJECTS,
  GET_ALL,
  type Lists,
  lists,
  type LvChild,
  mutationCounts,
  plus,
  readVirshLog,
  scrubBasic,
  spawnLv,
  storeObjects,
  waitForStage,
  watchStream,
} from "./crash_helpers.ts";
import { Lv, mutating, requireLab, ROOT, waitFor } from "./helpers.ts";

/** basic.yaml plus a blank Volume; the box source made absolute so that both manifests declare the same Box. */
function extraManifest(dir: string): string {
  const text = Deno.readTextFileSync(`${ROOT}${BASIC}`)
    .replace("source: tiny.img", `source: ${ROOT}examples/tiny.img`);
  assert.match(text, new RegExp(`source: ${ROOT}examples/tiny.img`));
  const path = `${dir}/basic-extra.yaml`;
  Deno.writeTextFileSync(
    path,
    `${text}---\napiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata:\n  name: extra-data\nspec:\n  size: 32Mi\n`,
  );
  return path;
}

const OBJECTS = [
  "box/tiny",
  "network/basic-net",
  "volume/web-data",
  "domain/web",
];
const WITH_EXTRA = { ...BASIC_OBJECTS, volumes: [...BASIC_OBJECTS.volumes, "extra-data"] };
/** Every libvirt change converging both manifests takes, once. */
const ONCE = {
  "net-define": 1,
  "net-start": 1,
  "net-autostart": 1,
  "vol-create": 4, // the box's bytes are copied by lv (local libvirt), no vol-upload
  "define": 1,
  "start": 1,
};

/** Whether process `pid` has `path` open. */
function hasOpen(pid: number, path: string): boolean {
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === path) return true;
      } catch { /* closed meanwhile */ }
    }
  } catch { /* exited */ }
  return false;
}

type Out = Awaited<ReturnType<typeof spawnLv>["output"]>;

/** Each object reported "created" by exactly one of the two applies, "unchanged" by the other. */
function assertCreatedOnce(a: Out, b: Out): void {
  for (const ref of OBJECTS) {
    const said = [a.stdout, b.stdout].map((s) => s.match(new RegExp(`^${ref} (\\w+)$`, "m"))?.[1]);
    assert.deepEqual(said.sort(), ["created", "unchanged"], `${ref}: ${JSON.stringify(said)}`);
  }
  assert.match(b.stdout, /^volume\/extra-data created$/m);
}

async function assertConverged(lv: Lv, before: Lists): Promise<void> {
  assert.deepEqual(await lists(), plus(before, WITH_EXTRA));
  const objects = await storeObjects(lv);
  assert.deepEqual(
    [...objects.keys()].sort(),
    [...OBJECTS, "volume/web", "volume/extra-data"].sort(),
  );
  for (const [key, obj] of objects) {
    assert.equal(obj.status.conditions?.find((c) => c.type === "Ready")?.status, "True", `${key} Ready`);
  }
}

function outputs(...runs: Out[]): string {
  return runs.map((r, i) => `--- process ${i + 1}: exit ${r.code}\n${r.stdout}${r.stderr}`).join("\n");
}

interface Two {
  lv: Lv;
  files: { basic: string; extra: string };
  /** Extra arguments of both applies. */
  args: string[];
  /** LV_VIRSH_LOG of each. */
  logs: [string, string];
  /** Starts the second when this resolves (default: both at once). */
  startSecond?: (first: LvChild, firstLog: string) => Promise<unknown>;
  /** Both read their manifest from stdin, fed to both at the same instant once both have opened the store. */
  stdin?: boolean;
}

/** Runs `lv apply` of basic.yaml (process 1) and of the larger manifest (process 2); returns their results. */
async function applyTwo(two: Two): Promise<[Out, Out]> {
  const { lv, files, logs } = two;
  for (const f of logs) {
    try {
      Deno.removeSync(f);
    } catch { /* not written */ }
  }
  const args = (file: string) => ["apply", "-f", two.stdin ? "-" : file, ...two.args];
  // The first runs in examples/, so that its stdin manifest's box source (tiny.img) is found there.
  const a = spawnLv(lv, args(files.basic), { virshLog: logs[0], stdin: two.stdin, cwd: `${ROOT}examples` });
  await two.startSecond?.(a, logs[0]);
  const b = spawnLv(lv, args(files.extra), { virshLog: logs[1], stdin: two.stdin });
  if (two.stdin) {
    const store = `${lv.home}/store.db`;
    await waitFor(
      () => Promise.resolve(hasOpen(a.pid, store) && hasOpen(b.pid, store)),
      "both applies have opened the store",
      30_000,
    );
    await Promise.all([
      a.feed(Deno.readTextFileSync(files.basic)),
      b.feed(Deno.readTextFileSync(files.extra)),
    ]);
  }
  const [ra, rb] = await Promise.all([a.output, b.output]);
  assert.ok(ra.code === 0 && rb.code === 0, outputs(ra, rb));
  assertCreatedOnce(ra, rb);
  return [ra, rb];
}

/**
 * Two applies that converge: both exit 0, each object created once, libvirt holds exactly what the manifests
 * declare, and each change to libvirt was made once, by the applies or (libvirtCalls) by someone else.
 */
async function applyBoth(
  lv: Lv,
  files: { basic: string; extra: string },
  options: {
    before: Lists;
    startSecond?: Two["startSecond"];
    /** The virsh commands that are expected to change libvirt (default: the two applies' own). */
    libvirtCalls?: () => string[][];
  },
): Promise<void> {
  const logs: [string, string] = [`${lv.home}/a-virsh.log`, `${lv.home}/b-virsh.log`];
  await applyTwo({ lv, files, logs, args: ["--timeout=120s"], startSecond: options.startSecond });
  await assertConverged(lv, options.before);
  const applies = [...readVirshLog(logs[0]), ...readVirshLog(logs[1])];
  if (options.libvirtCalls) {
    assert.deepEqual(mutating(applies), [], "the applies changed nothing in libvirt themselves");
    assert.deepEqual(mutationCounts(options.libvirtCalls(), mutating), ONCE);
  } else {
    assert.deepEqual(mutationCounts(applies, mutating), ONCE);
  }
}

/**
 * Only the writing part of two applies at once (--wait=false): both exit 0, each object created once, no virsh
 * command; then the objects (never reconciled, so without finalizers) are deleted from the store again.
 */
async function writeBoth(lv: Lv, files: { basic: string; extra: string }, stdin: boolean): Promise<void> {
  const logs: [string, string] = [`${lv.home}/a-virsh.log`, `${lv.home}/b-virsh.log`];
  await applyTwo({ lv, files, logs, args: ["--wait=false"], stdin });
  await lv.ok(["delete", "-f", files.extra, "--wait=false"]);
  assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "");
  // apply checks that libvirt answers before writing (read-only virsh); nothing may change libvirt.
  assert.deepEqual(mutating([...readVirshLog(logs[0]), ...readVirshLog(logs[1])]), []);
}

async function deleteAll(lv: Lv, extra: string, before: Lists): Promise<void> {
  await lv.ok(["delete", "-f", extra, "--timeout=60s"]);
  assert.deepEqual(await lists(), before);
  assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "");
}

Deno.test("two lv apply on overlapping manifests, same LV_HOME: both exit 0, converge once", async (t) => {
  requireLab();
  const dir = Deno.makeTempDirSync({ prefix: "lv-concurrency-" });
  const files = { basic: `${ROOT}${BASIC}`, extra: extraManifest(dir) };
  const before = await lists();
  const lv = new Lv();
  try {
    await t.step("the second starts while the first converges", async () => {
      await applyBoth(lv, files, {
        before,
        // The first has written its objects to the store before its first virsh command.
        startSecond: (a, logA) =>
          waitForStage(a, logA, { name: "first virsh", reached: (c) => c.length > 0 }),
      });
      await deleteAll(lv, files.extra, before);
    });

    // The races below lie in writing the store, before any libvirt work: these steps race only that part
    // (apply --wait=false, objects that were never reconciled and so have no finalizer), many times, quickly.
    await t.step({
      name: "store only: started at the same instant on a new LV_HOME, 20 rounds",
      // Once: "database is locked" opening a new store, and "already exists" from a read-then-create race.
      fn: async () => {
        for (let round = 1; round <= 20; round++) {
          const fresh = new Lv();
          try {
            await writeBoth(fresh, files, false);
          } finally {
            fresh.cleanup();
          }
        }
      },
    });

    await t.step({
      name: "store only: released at the same instant via stdin on an existing store, 20 rounds",
      // Once: the loser of the read-then-create race exited 1, "box/tiny already exists".
      fn: async () => {
        for (let round = 1; round <= 20; round++) await writeBoth(lv, files, true);
      },
    });
  } finally {
    await lv.run(["delete", "-f", files.extra, "--ignore-not-found", "--timeout=60s"]);
    await scrubBasic();
    lv.cleanup();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("lv apply while lv controller runs: apply only writes, the controller converges once", async (t) => {
  requireLab();
  const lv = new Lv();
  const files = { basic: `${ROOT}${BASIC}`, extra: extraManifest(lv.home) };
  const controllerLog = `${lv.home}/controller-virsh.log`;
  const before = await lists();
  const controller = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, "controller", "--resync=2s"],
    env: { LV_HOME: lv.home, LV_VIRSH_LOG: controllerLog },
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = watchStream(controller.stderr);
  let stopped = false;
  try {
    await t.step("the controller holds the lease", async () => {
      await stderr.until(/lv controller: running for/, "the controller runs");
    });

    await t.step(
      "two overlapping applies while it runs: both exit 0, only the controller touches libvirt",
      async () => {
        await applyBoth(lv, files, {
          before,
          libvirtCalls: () => readVirshLog(controllerLog),
          // The first has written its objects once the controller changes libvirt for them.
          startSecond: () =>
            waitFor(
              () => Promise.resolve(mutating(readVirshLog(controllerLog)).length > 0),
              "the controller acts on the first apply's objects",
              30_000,
            ),
        });
      },
    );

    await t.step("two more resync passes change nothing", async () => {
      const resyncs = () => readVirshLog(controllerLog).filter((c) => c[0] === "domstate").length;
      const seen = resyncs();
      await waitFor(() => Promise.resolve(resyncs() >= seen + 2), "two more resync passes", 30_000);
      assert.deepEqual(mutationCounts(readVirshLog(controllerLog), mutating), ONCE);
      await assertConverged(lv, before);
    });

    await t.step("an apply of a changed spec while it runs is carried out", async () => {
      const changed = `${lv.home}/changed.yaml`;
      Deno.writeTextFileSync(changed, Deno.readTextFileSync(files.extra).replace("size: 32Mi", "size: 48Mi"));
      const r = await lv.ok(["apply", "-f", changed, "--timeout=60s"]);
      assert.match(r.stdout, /^volume\/extra-data configured$/m);
      const vol = (await storeObjects(lv)).get("volume/extra-data");
      assert.equal(vol?.status.conditions?.find((c) => c.type === "Ready")?.status, "True");
      const resizes = readVirshLog(controllerLog).filter((c) => c[0] === "vol-resize");
      assert.deepEqual(resizes, [["vol-resize", "--pool", "default", "extra-data", String(48 << 20)]]);
    });

    await t.step("delete while it runs removes everything", async () => {
      await deleteAll(lv, files.extra, before);
    });

    await t.step("SIGTERM stops it cleanly", async () => {
      controller.kill("SIGTERM");
      stopped = true;
      const status = await controller.status;
      assert.equal(status.code, 0, stderr.text());
      await stderr.until(/lv controller: stopped/, "the controller says it stopped", 5_000);
    });
  } finally {
    if (!stopped) {
      controller.kill("SIGTERM");
      await controller.status;
    }
    await lv.run(["delete", "-f", files.extra, "--ignore-not-found", "--timeout=60s"]);
    await scrubBasic();
    lv.cleanup();
  }
});
