/** Shaping lv get's output: jsonpath, custom-columns, --no-headers, --sort-by, -L, --show-labels, get all,
 * set-based selectors; verbs and delete taking -l, -f FILE and --all. */
import assert from "node:assert/strict";
import type { AnyResource, Domain } from "../../src/api/types.ts";
import { parseSelector } from "../../src/cli/targets.ts";
import { parseCommandLine } from "../../src/cli/command.ts";
import { verbCommands } from "../../src/cli/commands/verbs.ts";
import { capture, homeWith, lv, lvAt } from "./cli_run.ts";
import { example, EXAMPLES_DIR } from "./harness.ts";
import { newCliHarness } from "./cli_harness.ts";
import { writeAll } from "../../src/cli/output.ts";

function objects(): AnyResource[] {
  return [
    example("Network", "basic-net"),
    example<Domain>("Domain", "web", (d) => {
      d.metadata.labels = { app: "web", tier: "front" };
      d.spec.cpus = 4;
    }),
    example<Domain>("Domain", "web", (d) => {
      d.metadata.name = "db";
      d.metadata.labels = { app: "db" };
      d.spec.cpus = 2;
      d.spec.disks = [];
    }),
  ];
}

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await homeWith(objects());
  try {
    await fn(home);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
}

Deno.test("set-based selectors: =, ==, !=, in, notin, key, !key", () => {
  const labels = { app: "web", tier: "front" };
  const cases: [string, boolean][] = [
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app in (db, web)", true],
    ["app in (db)", false],
    ["app notin (db,cache)", true],
    ["app notin (web)", false],
    ["missing notin (x)", true],
    ["tier", true],
    ["!tier", false],
    ["!missing", true],
    ["app=web,tier in (front,back),!legacy", true],
    ["app=web,tier=back", false],
  ];
  for (const [text, expected] of cases) assert.equal(parseSelector(text)!.matches(labels), expected, text);
  for (const bad of ["app in web", "=web", "app=(x)", "app in (a b)"]) {
    assert.throws(() => parseSelector(bad), /bad label selector/, bad);
  }
});

Deno.test("-o jsonpath templates, custom-columns, --no-headers, --sort-by", async () => {
  await withHome(async (home) => {
    const cases: [string[], string][] = [
      [["domains", "-o", "jsonpath={.items[*].metadata.name}"], "db web"],
      [["domain", "web", "-o", "jsonpath={.spec.cpus}"], "4"],
      [
        [
          "vm",
          "--sort-by=.metadata.name",
          "-o",
          'jsonpath={range .items[*]}{.metadata.name}:{.spec.cpus}{"\\n"}{end}',
        ],
        "db:2\nweb:4\n",
      ],
      [
        ["vm", "-o", "custom-columns=NAME:.metadata.name,CPUS:.spec.cpus,X:.nope"],
        "NAME   CPUS   X\ndb     2      <none>\nweb    4      <none>\n",
      ],
      [["vm", "--no-headers", "--sort-by={.spec.cpus}", "-o=custom-columns=N:.metadata.name"], "db\nweb\n"],
    ];
    for (const [args, expected] of cases) {
      assert.equal((await lvAt(home, "get", ...args)).stdout, expected, args.join(" "));
    }
    const table = await lvAt(home, "get", "vm", "--no-headers", "--sort-by=.metadata.name");
    assert.match(table.stdout, /^db\s+Pending\s/);
    assert.doesNotMatch(table.stdout, /NAME/);
    for (
      const bad of ["jsonpath={range .items[*]}", "custom-columns=NAME", "jsonpath=", "custom-columns=:.x"]
    ) {
      const r = await lvAt(home, "get", "vm", "-o", bad);
      assert.equal(r.code, 2, bad);
    }
  });
});

Deno.test("-L label columns, --show-labels, get all, set-based -l", async () => {
  await withHome(async (home) => {
    const labelled = await lvAt(
      home,
      "get",
      "vm",
      "-L",
      "app,tier",
      "--show-labels",
      "--sort-by=.metadata.name",
    );
    const [header, db, web] = labelled.stdout.trimEnd().split("\n");
    assert.match(header, /^NAME .* APP +TIER +LABELS$/);
    assert.match(db, /^db .* db +app=db$/);
    assert.match(web, / web +front +app=web,tier=front$/);
    const all = await lvAt(home, "get", "all", "-o", "name");
    assert.equal(all.stdout, "network/basic-net\ndomain/db\ndomain/web\n");
    const allTable = await lvAt(home, "get", "all");
    assert.match(allTable.stdout, /network\/basic-net/);
    assert.match(allTable.stdout, /domain\/db/);
    const notin = await lvAt(home, "get", "vm", "-l", "app notin (web)", "-o", "name");
    assert.equal(notin.stdout, "domain/db\n");
    const has = await lvAt(home, "get", "vm", "-l", "tier", "-o", "name");
    assert.equal(has.stdout, "domain/web\n");
    const hasNot = await lvAt(home, "get", "vm", "-l", "!tier,app!=x", "-o", "name");
    assert.equal(hasNot.stdout, "domain/db\n");
    const status = await lvAt(home, "status", "-l", "app in (db)", "-o", "name");
    assert.equal(status.stdout, "domain/db\n");
  });
});

Deno.test("verbs and delete take -l, -f FILE and --all; exactly one way to pick", async (t) => {
  await withHome(async (home) => {
    const annotations = async () =>
      JSON.parse((await lvAt(home, "get", "vm", "-o", "json")).stdout).items.map((d: AnyResource) =>
        `${d.metadata.name}:${d.kind === "Domain" ? d.spec.state : ""}`
      ).sort();
    await t.step("halt -l app=web stops only web", async () => {
      const r = await lvAt(home, "halt", "-l", "app=web", "--wait=false");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "domain/web stopped\n");
      assert.deepEqual(await annotations(), ["db:Running", "web:Stopped"]);
    });
    await t.step("suspend --all pauses both", async () => {
      const r = await lvAt(home, "suspend", "--all", "--wait=false");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await annotations(), ["db:Paused", "web:Paused"]);
    });
    await t.step("resume -f FILE picks every Domain the file declares (web)", async () => {
      const r = await lvAt(home, "resume", "-f", `${EXAMPLES_DIR}/basic.yaml`, "--wait=false");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await annotations(), ["db:Paused", "web:Running"]);
    });
    await t.step("no match says so", async () => {
      const r = await lvAt(home, "up", "-l", "app=nothing", "--wait=false");
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "No domains matched.\n");
    });
    await t.step("delete vm -l marks only the matching ones", async () => {
      const r = await lvAt(home, "delete", "vm", "-l", "app in (db)", "--wait=false");
      assert.equal(r.code, 0, r.stderr);
      const db = JSON.parse((await lvAt(home, "get", "vm", "db", "-o", "json")).stdout || "{}");
      assert.ok(db.metadata === undefined || db.metadata.deletionTimestamp);
      const web = JSON.parse((await lvAt(home, "get", "vm", "web", "-o", "json")).stdout);
      assert.equal(web.metadata.deletionTimestamp, undefined);
    });
  });
  // lv up -f FILE applies the file, then brings its domains up (a fake libvirt: apply needs one that answers)
  const h = await newCliHarness();
  try {
    const up = verbCommands.find((c) => c.name === "up")!;
    const { flags, args, rest } = parseCommandLine(up, ["-f", `${EXAMPLES_DIR}/basic.yaml`, "--wait=false"]);
    const output = capture();
    await up.run(
      {
        flags,
        args,
        rest,
        output,
        withRuntime: (fn: (rt: typeof h.rt) => Promise<void>) => fn({ ...h.rt, output }),
      } as unknown as Parameters<typeof up.run>[0],
    );
    assert.equal(
      output.stdout,
      "box/tiny created\nnetwork/basic-net created\nvolume/web-data created\ndomain/web created\n" +
        "domain/web running\n",
    );
  } finally {
    await h.close();
  }
  for (
    const [args, expected] of [
      [["up"], /no domain named\nhint: e\.g\. lv up web, or -l app=web, -f FILE, --all/],
      [["halt", "web", "--all"], /give one of NAME, -l, -f or --all, not NAME and --all/],
      [["reload", "-l", "a in b"], /bad label selector/],
      [["delete", "vm", "web", "--all"], /-l and --all take one KIND and no names/],
    ] as [string[], RegExp][]
  ) {
    const r = await lv(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, expected);
  }
});

Deno.test("writeAll writes every byte when a write takes only part", () => {
  const written: number[] = [];
  const file = {
    writeSync(p: Uint8Array) {
      const n = Math.min(3, p.length); // a pipe taking at most 3 bytes a write
      written.push(...p.subarray(0, n));
      return n;
    },
  };
  writeAll(file, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual(written, [1, 2, 3, 4, 5, 6, 7, 8]);
});
