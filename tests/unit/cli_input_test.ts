/** Forgiving input: global flags anywhere, did-you-mean for kinds, Go durations, positional apply files,
 * explain --recursive, usage errors exit 2, describe of nothing, lv destroy and lv status. */
import assert from "node:assert/strict";
import { parseDuration } from "../../src/cli/duration.ts";
import { capture, homeWith, lv, lvAt } from "./cli_run.ts";
import { main } from "../../src/cli/main.ts";
import { example } from "./harness.ts";

Deno.test("Go-style durations: 1m30s, 1h2m, 1.5h, 250us, plain seconds; anything else is refused", () => {
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1h2m3s"), 3_723_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30"), 30_000);
  assert.equal(parseDuration("2m500ms"), 120_500);
  for (const bad of ["", "m", "1x", "1m30", "-1s", "1 m", "s30"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("global flags work before and after the verb; a duration flag takes 1m30s", async () => {
  const home = await homeWith([example("Domain", "web")]);
  try {
    const plain = await lvAt(home, "get", "domains", "-o", "name");
    assert.equal(plain.stdout, "domain/web\n");
    for (
      const args of [
        ["-o", "name", "get", "domains"],
        ["--namespace", "default", "get", "domains", "-o=name"],
        ["-n", "default", "-o", "name", "get", "domains"],
        ["--connect=test:///nowhere", "get", "-o", "name", "domains"],
        ["get", "domains", "-n", "default", "-o", "name"],
      ]
    ) {
      const r = await lvAt(home, ...args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "domain/web\n", args.join(" "));
    }
    const other = await lvAt(home, "-n", "other", "get", "domains");
    assert.equal(other.stdout, "");
    assert.match(other.stderr, /No domains found in namespace other/);
    const wait = await lvAt(home, "wait", "domain/gone", "--for=delete", "--timeout=1m30s");
    assert.equal(wait.code, 0, wait.stderr);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("usage errors exit 2 and say what to type", async (t) => {
  const cases: [string[], RegExp][] = [
    [["get", "domian"], /unknown resource type "domian"\nhint: did you mean "domain"\?/],
    [["describe", "netwrks"], /did you mean "networks"\?/],
    [["--context"], /--context needs a value/],
    [["--bogus", "get", "vm"], /unknown flag '--bogus' before the command/],
    [["-n", "x"], /no command given/],
    [["doctor", "now"], /lv doctor takes no arguments \(got "now"\)/],
    [["explain", "domain", "extra"], /too many arguments for lv explain: "extra"/],
    [["version", "x"], /lv version takes no arguments/],
    [["config", "current-context", "x"], /lv config current-context takes no arguments/],
    [["-o", "yaml", "doctor"], /unknown flag '-o'/],
    [["up", "web", "--timeout=1x"], /--timeout=1x is not a duration\nhint: use e\.g\. .*1m30s/],
    [["destroy"], /no domain named/],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" "), async () => {
      const r = await lv(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected);
    });
  }
});

Deno.test("lv apply FILE without -f reads the file like -f FILE", async () => {
  const r = await lv("apply", "/nonexistent/x.yaml");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /file "\/nonexistent\/x\.yaml" does not exist/);
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    `${dir}/bad.yaml`,
    "apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata:\n  name: web\nspec:\n  cpus: many\n",
  );
  const bad = await lv("apply", `${dir}/bad.yaml`);
  Deno.removeSync(dir, { recursive: true });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.yaml:6:9: spec\.cpus: /);
});

Deno.test("lv explain --recursive lists nested fields; without it only direct ones", async () => {
  const flat = await lv("explain", "domain.spec");
  const deep = await lv("explain", "domain.spec", "--recursive");
  assert.equal(deep.code, 0);
  assert.ok(deep.stdout.length > flat.stdout.length);
  assert.match(deep.stdout, /^ {4,}\S/m);
});

Deno.test("describe of nothing says so; status is get domains; destroy asks, refuses without a terminal", async () => {
  const home = await homeWith([example("Domain", "web")]);
  try {
    const none = await lvAt(home, "describe", "networks");
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
    assert.equal(none.stderr, "No networks found in namespace default.\n");
    const status = await lvAt(home, "status", "-o", "name");
    assert.equal(status.stdout, (await lvAt(home, "get", "domains", "-o", "name")).stdout);
    assert.equal(status.stdout, "domain/web\n");
    assert.equal((await lvAt(home, "status", "web", "-o", "name")).stdout, "domain/web\n");
    // Tests run without a terminal on stdin: destroy refuses and deletes nothing.
    const refused = await lvAt(home, "destroy", "web");
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /stdin is not a terminal\nhint: to destroy without asking: lv destroy -f web/,
    );
    assert.equal((await lvAt(home, "get", "domain", "web", "-o", "json")).code, 0);
    const destroyed = await lvAt(home, "destroy", "-f", "web", "--wait=false");
    assert.equal(destroyed.code, 0, destroyed.stderr);
    const after = JSON.parse((await lvAt(home, "get", "domain", "web", "-o", "json")).stdout || "{}");
    assert.ok(after.metadata === undefined || after.metadata.deletionTimestamp, "marked for deletion");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("lv version asks libvirt without opening the store (none is created; an unreadable one is not read)", async () => {
  const home = Deno.makeTempDirSync({ prefix: "lv-cli-" });
  try {
    Deno.env.set("LV_HOME", home);
    Deno.env.set("LV_CONNECT", "test:///default");
    assert.equal(await main(["version"], capture()), 0);
    assert.deepEqual(
      [...Deno.readDirSync(home)].map((f) => f.name),
      [],
      "lv version made files in the lv home",
    );
    Deno.writeTextFileSync(`${home}/store.db`, "not a database");
    const o = capture();
    assert.equal(await main(["version"], o), 0, o.stderr);
    assert.match(o.stdout, /^lv \d+\.\d+\.\d+ .*\nlibvirt test:\/\/\/default: .*Running hypervisor: TEST/);
    const get = await lvAt(home, "get", "domains");
    assert.equal(get.code, 1, "a store that is not one fails the commands that read it");
  } finally {
    Deno.env.delete("LV_CONNECT");
    Deno.removeSync(home, { recursive: true });
  }
});
