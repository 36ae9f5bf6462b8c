/**
 * Nothing leaked, nothing touched:
 *   - 20 apply/delete cycles of examples/basic.yaml leave virsh's volume, network and domain lists, the
 *     pool's directory, the lab's network devices and its qemu/dnsmasq processes exactly as before, and do not
 *     slow down; then the real-VM example (examples/machine.yaml: a booted guest, its qemu, its network's
 *     dnsmasq, its forwarded port's forwarder process) applied and deleted once more leaves all of that exactly
 *     as before too;
 *   - every manifest of the bad-input corpus (tests/bad/*.yaml), applied with the real CLI over a store that
 *     holds a converged basic.yaml, exits 2 naming the file and the line, runs no virsh command, and leaves
 *     the store (its files byte for byte, else what lv get shows) and libvirt unchanged.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BASIC, BASIC_NAMES, GET_ALL, lists, readVirshLog, scrubBasic } from "./crash_helpers.ts";
import { Lv, mutating, requireLab, ROOT, run, testBoxDir, virsh } from "./helpers.ts";

const CYCLES = 20;
const POOL_DIR = "/var/lib/libvirt/images";
const MACHINE = "examples/machine.yaml";

/** Network devices in the lab's namespace. */
async function links(): Promise<string[]> {
  const r = await run("ip", ["-o", "link", "show"]);
  return r.stdout.split("\n").filter((l) => l).map((l) => l.split(": ")[1].split("@")[0]).sort();
}

/** qemu and dnsmasq processes in this network namespace (the lab's), by name, and lv's port forwarders. */
function labProcesses(): string[] {
  const mine = Deno.readLinkSync("/proc/self/ns/net");
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${entry.name}/ns/net`) !== mine) continue;
      const comm = Deno.readTextFileSync(`/proc/${entry.name}/comm`).trim();
      if (/^(qemu|dnsmasq)/.test(comm)) found.push(comm);
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (argv.includes("port-forward") && argv.includes("--supervised")) {
        found.push("lv port-forward --supervised");
      }
    } catch { /* gone meanwhile */ }
  }
  return found.sort();
}

function poolFiles(): string[] {
  try {
    return [...Deno.readDirSync(POOL_DIR)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function snapshot() {
  return { lists: await lists(), poolFiles: poolFiles(), links: await links(), processes: labProcesses() };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

Deno.test(`${CYCLES} apply/delete cycles of examples/basic.yaml, then the real VM once, leave libvirt exactly as before`, async () => {
  requireLab();
  testBoxDir();
  const lv = new Lv();
  const before = await snapshot();
  const seconds: number[] = [];
  const mutations: string[][] = [];
  try {
    for (let i = 1; i <= CYCLES; i++) {
      const started = Date.now();
      const a = await lv.ok(["apply", "-f", BASIC, "--timeout=60s"]);
      assert.equal(a.stdout.match(/ created$/gm)?.length, 4, `cycle ${i}: apply\n${a.stdout}`);
      assert.equal((await virsh("domstate", "web")).trim(), "running", `cycle ${i}`);
      await lv.ok(["delete", "-f", BASIC, "--timeout=60s"]);
      seconds.push((Date.now() - started) / 1000);
      assert.deepEqual(await lists(), before.lists, `cycle ${i}: virsh lists after delete`);
      mutations.push(mutating(lv.virshCalls()).map((c) => c[0]).filter((c) => !c.startsWith("pool-")).sort());
    }
    assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "", "the store is empty");
    assert.deepEqual(await snapshot(), before);
    // Every cycle makes and removes the same libvirt objects with the same commands, each once.
    const once = [
      "define",
      "destroy",
      "net-autostart",
      "net-define",
      "net-destroy",
      "net-start",
      "net-undefine",
    ]
      // The box's bytes are copied by lv into the volume libvirt created (local libvirt): no vol-upload.
      .concat(["start", "undefine"], Array(3).fill("vol-create"), Array(3).fill("vol-delete"))
      .sort();
    for (const [i, m] of mutations.entries()) assert.deepEqual(m, once, `cycle ${i + 1}'s changes`);
    // No slow-down as the store's history grows: the fastest of the last five cycles is at most twice the
    // median of the first five (one slow cycle, when other work loads the machine, proves nothing).
    const first = [...seconds.slice(0, 5)].sort((a, b) => a - b)[2], last = Math.min(...seconds.slice(-5));
    assert.ok(
      last <= 2 * first + 1,
      `cycles slowed down: first five ${first.toFixed(1)}s, last five ${last.toFixed(1)}s`,
    );
    const total = seconds.reduce((a, b) => a + b, 0);
    const [min, max] = [Math.min(...seconds), Math.max(...seconds)];
    console.error(
      `  ${CYCLES} cycles in ${total.toFixed(0)}s: ${mean(seconds).toFixed(1)}s per cycle (apply + delete; ` +
        `min ${min.toFixed(1)}, max ${max.toFixed(1)})`,
    );

    // The real VM once more: a guest booted to SSH and provisioned, so a qemu and the network's dnsmasq run.
    // Its TCG boot (2 min alone) may share the cores with the end-to-end tests' guests (scripts/test.sh runs
    // both layers at once): a deadline as theirs, not a speed check.
    const started = Date.now();
    const a = await lv.ok(["apply", "-f", MACHINE, "--timeout=20m"]);
    assert.equal(a.stdout, "box/debian12 created\nnetwork/test-net created\ndomain/test-vm created\n");
    const applied = (Date.now() - started) / 1000;
    const running = await snapshot();
    assert.equal((await virsh("domstate", "test-vm")).trim(), "running");
    assert.ok(
      running.processes.length > before.processes.length,
      `qemu and dnsmasq run: ${running.processes}`,
    );
    assert.ok(
      running.processes.includes("lv port-forward --supervised"),
      `its forwarder runs: ${running.processes}`,
    );
    assert.ok(
      running.links.length > before.links.length,
      `the network's bridge and the tap: ${running.links}`,
    );
    const deleting = Date.now();
    await lv.ok(["delete", "-f", MACHINE, "--timeout=3m"]);
    const deleted = (Date.now() - deleting) / 1000;
    assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "", "the store is empty");
    assert.deepEqual(await snapshot(), before, "after the real VM");
    console.error(`  ${MACHINE}: apply ${applied.toFixed(0)}s, delete ${deleted.toFixed(0)}s`);
  } finally {
    await lv.run(["delete", "-f", MACHINE, "--ignore-not-found", "--timeout=3m"]);
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    await scrubBasic();
    lv.cleanup();
  }
});

interface BadCase {
  file: string;
  line: number;
  expect: string;
}

/** The corpus, with each file's expected line and text (see tests/unit/bad_corpus_test.ts for the format). */
function badCorpus(): BadCase[] {
  const cases: BadCase[] = [];
  for (const entry of Deno.readDirSync(`${ROOT}tests/bad`)) {
    if (!entry.isFile || !entry.name.endsWith(".yaml")) continue;
    const lines = Deno.readTextFileSync(`${ROOT}tests/bad/${entry.name}`).split("\n");
    const expect = /^# expect: (.+)$/.exec(lines[0])?.[1] ?? "";
    const explicit = lines.map((l) => /^# line: (\d+)$/.exec(l)).find((m) => m !== null);
    const marked = lines.findIndex((l, i) => i > 0 && /#\s*<-\s*$/.test(l)) + 1;
    const file = `tests/bad/${entry.name}`;
    // The corpus names its files without their directory; lv names them as given on the command line.
    cases.push({
      file,
      line: explicit ? Number(explicit[1]) : marked,
      expect: expect.split(`${entry.name}:`).join(`${file}:`),
    });
  }
  return cases.sort((a, b) => a.file.localeCompare(b.file));
}

/** The SQLite store's files in an lv home (the database and its write-ahead log), hashed together. */
function storeFiles(home: string): string {
  const hash = createHash("sha256");
  for (const file of ["store.db", "store.db-wal"]) {
    try {
      hash.update(Deno.readFileSync(`${home}/${file}`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    hash.update(`\0${file}\0`);
  }
  return hash.digest("hex");
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("every bad manifest: exit 2 naming file and line; store and libvirt unchanged", async (t) => {
  requireLab();
  const lv = new Lv();
  const corpus = badCorpus();
  assert.ok(corpus.length >= 60, `only ${corpus.length} files in tests/bad`);
  try {
    await lv.ok(["apply", "-f", BASIC, "--timeout=120s"]);
    const names = (await lv.ok([...GET_ALL, "-o", "name"])).stdout;
    assert.equal(names, BASIC_NAMES);
    // The whole store as JSON: resourceVersions, generations and statuses included.
    const store = (await lv.ok([...GET_ALL, "-o", "json"])).stdout;
    const libvirt = await lists();
    const domainXml = await virsh("dumpxml", "--inactive", "web");
    const networkXml = await virsh("net-dumpxml", "--inactive", "basic-net");
    let storeBytes = storeFiles(lv.home);
    lv.virshCalls();
    const started = Date.now();
    for (const c of corpus) {
      await t.step(c.file, async () => {
        const r = await lv.run(["apply", "-f", c.file]);
        assert.equal(r.code, 2, `exit ${r.code}\n${r.stdout}${r.stderr}`);
        assert.equal(r.stdout, "", "nothing reported as applied");
        assert.match(
          r.stderr,
          new RegExp(`^error: ${escape(c.file)}:${c.line}:\\d+: .*${escape(c.expect)}`, "m"),
          `expected ${c.file}:${c.line}: ... ${c.expect}`,
        );
        assert.deepEqual(readVirshLog(lv.virshLog), [], "lv ran no virsh command");
        assert.deepEqual(await lists(), libvirt, "virsh lists unchanged");
        // Files byte for byte as before: the store is unchanged. Else (a read may checkpoint the WAL) what
        // lv get shows must be.
        const files = storeFiles(lv.home);
        if (files !== storeBytes) {
          assert.equal((await lv.ok([...GET_ALL, "-o", "json"])).stdout, store, "the store is unchanged");
          storeBytes = files;
        }
      });
    }
    const perFile = (Date.now() - started) / 1000 / corpus.length;
    await t.step("after all of them: the store and libvirt's definitions are unchanged", async () => {
      assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, names);
      assert.equal(await virsh("dumpxml", "--inactive", "web"), domainXml);
      assert.equal(await virsh("net-dumpxml", "--inactive", "basic-net"), networkXml);
      assert.deepEqual(mutating(lv.virshCalls()), []);
    });
    console.error(`  ${corpus.length} bad files, ${perFile.toFixed(2)}s each`);
  } finally {
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    await scrubBasic();
    lv.cleanup();
  }
});
