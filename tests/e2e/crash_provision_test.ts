/**
 * Crash during provisioning, on a real VM: examples/machine.yaml with a `run: once` provisioner that takes a
 * few seconds (it logs its start, sleeps 5 s, logs its end), `lv apply` killed with SIGKILL once lv's stderr
 * shows the provisioner's first line of output (so the script is running inside the guest), then
 *   - lv's process group killed; a second `lv apply` converges: Ready=True, exactly one domain, one overlay
 *     volume, one box volume and one network more than before the test (virsh's lists), the provisioner run
 *     to completion; `lv delete -f` then leaves virsh's lists as they were before the test;
 *   - lv alone killed; `lv delete -f` right after the crash removes everything (domain, overlay, box volume,
 *     network) and empties the store.
 *
 * What a `run: once` provisioner interrupted mid-run gets: it has not finished, so it is not done. lv records
 * the once-provisioners as done (status.guest.provisioned) only after all of them completed, so the next
 * apply runs the interrupted one again, from its start, to completion: at least once to completion, never
 * skipped, and run exactly once more by the apply that converges (two starts in all, not three). Whether the
 * interrupted run's rest still completes inside the guest after lv's SSH connection vanished is up to the
 * guest's sshd, not lv: the test reports it. lv runs provisioners under a guest-side lock, so the re-run
 * never runs beside a leftover of the interrupted one: that order is asserted.
 */
import assert from "node:assert/strict";
import { assertClean, GET_ALL, type Lists, lists, plus, watchStream } from "../integration/crash_helpers.ts";
import { Lv, requireLab, ROOT, testBoxDir, virsh, waitFor } from "../integration/helpers.ts";

const LOG = "/home/vagrant/provision.log";
/** The provisioner: `start PID`, 5 s, `done PID` in LOG; its first line of output marks it as started. */
const PROVISIONER = [
  `echo "start $$" >> ${LOG}`,
  `echo "provisioning started (pid $$)"`,
  "sleep 5",
  `echo "done $$" >> ${LOG}`,
  `echo "provisioning finished (pid $$)"`,
];
/** What the manifest adds to virsh's lists. */
const OBJECTS: Lists = { domains: ["test-vm"], networks: ["test-net"], volumes: ["box-debian12", "test-vm"] };
const NAMES = "box/debian12\nvolume/test-vm\nnetwork/test-net\ndomain/test-vm\n";

/** examples/machine.yaml with the test's box, absolute paths, and PROVISIONER as its only provisioner. */
function manifest(dir: string): string {
  const example = Deno.readTextFileSync(`${ROOT}examples/machine.yaml`);
  const [head, rest] = example.split("  provision:\n");
  const folders = rest.slice(rest.indexOf("  syncedFolders:\n"));
  assert.ok(head && folders, "examples/machine.yaml has provision and syncedFolders");
  const text = head.replace(/source: \S+debian12\.box/, `source: ${testBoxDir()}/debian12.box`) +
    "  provision:\n    - type: shell\n      run: once\n      inline: |\n" +
    PROVISIONER.map((l) => `        ${l}\n`).join("") +
    folders.replace("source: machine-files", `source: ${ROOT}examples/machine-files`);
  assert.notEqual(text, example);
  const path = `${dir}/machine.yaml`;
  Deno.writeTextFileSync(path, text);
  return path;
}

/**
 * Starts `lv apply -f manifest` in a process group of its own, waits until its stderr shows that the
 * provisioner is running in the guest, and kills lv with SIGKILL (its group, or lv alone). Returns lv's stderr.
 */
async function crashWhileProvisioning(lv: Lv, file: string, group: boolean): Promise<string> {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", `${ROOT}mod.ts`, "apply", "-f", file, "--timeout=10m"],
    env: { LV_HOME: lv.home, LV_VIRSH_LOG: lv.virshLog },
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = watchStream(child.stderr);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  try {
    await waitFor(
      () => {
        if (exited) {
          throw new Error(`lv apply exited ${exited.code} before provisioning started:\n${stderr.text()}`);
        }
        return Promise.resolve(/^domain\/test-vm: provision\[0\]: provisioning started/m.test(stderr.text()));
      },
      "lv apply shows the provisioner running",
      10 * 60_000,
    );
  } finally {
    try {
      Deno.kill(group ? -child.pid : child.pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  const s = await status;
  await stdout;
  assert.equal(s.signal, "SIGKILL", `lv was not killed but exited ${s.code}:\n${stderr.text()}`);
  assert.doesNotMatch(stderr.text(), /provisioning finished/, "killed before the provisioner finished");
  return stderr.text();
}

/** What lv's store says of the domain. */
async function domainStatus(lv: Lv) {
  const dom = JSON.parse((await lv.ok(["get", "domain", "test-vm", "-o", "json"])).stdout);
  const ready = dom.status.conditions?.find((c: { type: string }) => c.type === "Ready");
  return { ready: ready?.status as string, reason: ready?.reason as string, guest: dom.status.guest ?? {} };
}

/** Lines of the provisioner's log in the guest. */
async function provisionLog(lv: Lv): Promise<string[]> {
  const r = await lv.ok(["ssh", "test-vm", "--", `cat ${LOG}`]);
  return r.stdout.split("\n").filter((l) => l);
}

Deno.test("kill -9 of lv apply while a real VM is provisioned: apply again converges, delete cleans", async (t) => {
  requireLab();
  const dir = Deno.makeTempDirSync({ prefix: "lv-crash-provision-" });
  const file = manifest(dir);
  const before = await lists();
  const timings: string[] = [];
  const withLv = async (fn: (lv: Lv) => Promise<void>) => {
    const lv = new Lv();
    try {
      await fn(lv);
    } finally {
      await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=3m"]);
      lv.cleanup();
    }
  };

  try {
    await t.step(
      "group killed while provisioning: apply again converges and runs it to completion",
      async () => {
        await withLv(async (lv) => {
          let started = Date.now();
          await crashWhileProvisioning(lv, file, true);
          timings.push(`apply to the kill ${((Date.now() - started) / 1000).toFixed(1)}s`);

          // What the crash left: the domain is not Ready and its once-provisioners are not recorded as done.
          const crashed = await domainStatus(lv);
          assert.notEqual(crashed.ready, "True", "not Ready after the crash");
          assert.notEqual(
            crashed.guest.provisioned,
            true,
            "the interrupted provisioner is not recorded as done",
          );
          assert.deepEqual(await lists(), plus(before, OBJECTS), "the crash left no extra libvirt object");

          started = Date.now();
          const r = await lv.run(["apply", "-f", file, "--timeout=8m"]);
          timings.push(`apply again ${((Date.now() - started) / 1000).toFixed(1)}s`);
          assert.equal(r.code, 0, `second apply exited ${r.code}\n${r.stdout}${r.stderr}`);
          assert.equal(
            r.stdout,
            "box/debian12 unchanged\nnetwork/test-net unchanged\ndomain/test-vm unchanged\n",
          );
          assert.match(r.stderr, /^domain\/test-vm: provision\[0\]: provisioning finished/m, "it ran again");

          const after = await domainStatus(lv);
          assert.deepEqual([after.ready, after.reason], ["True", "Running"]);
          assert.equal(after.guest.provisioned, true);
          assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, NAMES);
          assert.deepEqual(
            await lists(),
            plus(before, OBJECTS),
            "one domain, overlay, box volume and network",
          );
          assert.equal((await virsh("domstate", "test-vm")).trim(), "running");

          // Two starts: the interrupted run and the one the second apply made, which completed.
          const log = await provisionLog(lv);
          const starts = log.filter((l) => l.startsWith("start "));
          assert.equal(starts.length, 2, `two starts of the provisioner:\n${log.join("\n")}`);
          const rerun = starts[1].split(" ")[1];
          assert.ok(log.includes(`done ${rerun}`), `the re-run (pid ${rerun}) completed:\n${log.join("\n")}`);
          const first = starts[0].split(" ")[1];
          // Never side by side: the re-run waited for the guest-side lock the interrupted run still held.
          const firstDone = log.indexOf(`done ${first}`);
          assert.ok(
            firstDone === -1 || firstDone < log.indexOf(`start ${rerun}`),
            `the re-run started only after the interrupted run ended:\n${log.join("\n")}`,
          );
          timings.push(
            `the interrupted run (pid ${first}) ${
              log.includes(`done ${first}`) ? "still completed in the guest" : "did not complete in the guest"
            } (guest log: ${log.join(", ")})`,
          );

          // A third apply runs nothing: the provisioner is now done.
          const third = await lv.ok(["apply", "-f", file, "--timeout=2m"]);
          assert.doesNotMatch(third.stderr, /provision\[0\]/);
          assert.equal((await provisionLog(lv)).filter((l) => l.startsWith("start ")).length, 2);

          started = Date.now();
          await lv.ok(["delete", "-f", file, "--timeout=3m"]);
          timings.push(`delete ${((Date.now() - started) / 1000).toFixed(1)}s`);
          await assertClean(lv, before);
        });
      },
    );

    await t.step("lv alone killed while provisioning: delete right after removes everything", async () => {
      await withLv(async (lv) => {
        await crashWhileProvisioning(lv, file, false);
        assert.deepEqual(await lists(), plus(before, OBJECTS));
        const started = Date.now();
        const r = await lv.run(["delete", "-f", file, "--timeout=3m"]);
        timings.push(`delete after the crash ${((Date.now() - started) / 1000).toFixed(1)}s`);
        assert.equal(r.code, 0, `delete exited ${r.code}\n${r.stdout}${r.stderr}`);
        await assertClean(lv, before);
      });
    });
  } finally {
    console.error(`  ${timings.join("; ")}`);
    Deno.removeSync(dir, { recursive: true });
  }
});
