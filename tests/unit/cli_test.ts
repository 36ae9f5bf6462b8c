/** The CLI surface: help, usage errors and exit codes, tables; apply/get/delete through a fake libvirt. */
import assert from "node:assert/strict";
import type { AnyResource } from "../../src/api/types.ts";
import { apply } from "../../src/cli/apply.ts";
import { deleteObjects } from "../../src/cli/delete.ts";
import { printObjects, printTable } from "../../src/cli/printers.ts";
import { parseTargets } from "../../src/cli/targets.ts";
import { capture, lv } from "./cli_run.ts";
import { newCliHarness } from "./cli_harness.ts";
import { EXAMPLES_DIR } from "./harness.ts";

Deno.test("main() prints help and per-command usage", async (t) => {
  const help = await lv("help");
  assert.equal(help.code, 0);
  await t.assertSnapshot(help.stdout, { serializer: String });
  for (const command of ["apply", "get", "delete", "wait", "ssh", "snapshot", "reload"]) {
    const r = await lv(command, "--help");
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^Usage: lv ${command}`));
  }
  assert.equal((await lv()).stdout, help.stdout);
});

Deno.test("main() usage errors exit 2 with a one-line hint and no stack trace", async (t) => {
  const cases: [string[], RegExp][] = [
    [["bogus"], /^error: unknown command "bogus"\nhint: (did you mean 'lv logs'\? )?run 'lv help'/],
    [["get"], /^error: no resource type given\nhint: e\.g\. lv get domains/],
    [
      ["get", "widgets"],
      /^error: unknown resource type "widgets"\nhint: use one of: boxes, volumes, networks, domains/,
    ],
    [
      ["get", "domains", "-o", "xml"],
      /^error: -o xml is not an output format\nhint: use one of: table, wide, yaml, json, name/,
    ],
    [["get", "domains", "--colour"], /^error: unknown flag '--colour'/],
    [["apply"], /^error: no input: pass -f FILE/],
    [["apply", "-f", "/nonexistent.yaml"], /^error: file "\/nonexistent\.yaml" does not exist/],
    [["apply", "-f", "examples/basic.yaml", "--timeout=soon"], /--timeout=soon is not a duration/],
    [["delete", "domain"], /^error: no name given for domain/],
    [["wait", "domain/web"], /^error: --for is required/],
    [["wait", "domain/web", "--for=ready"], /--for=ready is not understood/],
    [["ssh"], /^error: lv ssh takes one domain name/],
    [["snapshot", "save", "web"], /^error: usage: lv snapshot save/],
    [["explain", "domain.spec.nope"], /.+/],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" "), async () => {
      const r = await lv(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
});

Deno.test("main() reports a validation failure with file:line:column and exit 2", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    `${dir}/bad.yaml`,
    "apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata:\n  name: web\nspec:\n  cpus: many\n",
  );
  const r = await lv("apply", "-f", `${dir}/bad.yaml`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^error: ${dir}/bad\\.yaml:6:9: spec\\.cpus: `));
  assert.match(r.stderr, /nothing was applied\.\n$/);
});

Deno.test("parseTargets() accepts kind name, kind/name, plural and short kinds", () => {
  assert.deepEqual(parseTargets(["domains"]), [{ kind: "Domain", names: [] }]);
  assert.deepEqual(parseTargets(["vm", "a", "b"]), [{ kind: "Domain", names: ["a", "b"] }]);
  assert.deepEqual(parseTargets(["dom/a", "net/n", "domain/b"]), [
    { kind: "Domain", names: ["a", "b"] },
    { kind: "Network", names: ["n"] },
  ]);
  assert.deepEqual(parseTargets(["boxes,vols"]).map((t) => t.kind), ["Box", "Volume"]);
});

Deno.test("apply, get tables and delete through a fake libvirt", async (t) => {
  const h = await newCliHarness();
  const out = capture();
  const rt = { ...h.rt, output: out };
  try {
    await apply(rt, { files: [`${EXAMPLES_DIR}/basic.yaml`], wait: true, timeoutMs: 30_000 });
    assert.equal(
      out.stdout,
      "box/tiny created\nnetwork/basic-net created\nvolume/web-data created\ndomain/web created\n",
    );
    assert.match(out.stderr, /domain\/web: Started: domain "web" started/);
    const objects: AnyResource[] = [];
    for (const kind of ["Box", "Network", "Volume", "Domain"] as const) {
      objects.push(...await rt.store.list(kind));
    }
    // Fixed ages and generated values, so the tables are stable.
    const now = new Date(Date.parse(objects[0].metadata.creationTimestamp) + 90_000);
    for (const o of objects) {
      o.metadata.creationTimestamp = objects[0].metadata.creationTimestamp;
      if (o.kind === "Domain") {
        o.status.interfaces = o.status.interfaces?.map((i) => ({ ...i, mac: "52:54:00:00:00:01" }));
        o.status.graphics = { type: "vnc", listen: "127.0.0.1", port: 5900 };
      }
      if (o.kind === "Box") o.spec.source = "examples/tiny.img";
      if (o.kind === "Volume") o.status.path = `/var/lib/libvirt/images/${o.metadata.name}`;
    }
    for (const kind of ["Box", "Network", "Volume", "Domain"] as const) {
      await t.step(`${kind} table and wide table`, async () => {
        const mine = objects.filter((o) => o.kind === kind);
        await t.assertSnapshot(printTable(kind, mine, false, { now }), { serializer: String });
        await t.assertSnapshot(printTable(kind, mine, true, { now }), { serializer: String });
      });
    }
    assert.equal(
      await printObjects(objects, "name", false),
      "box/tiny\nnetwork/basic-net\nvolume/web\nvolume/web-data\ndomain/web\n",
    );
    const single = JSON.parse(await printObjects(objects.filter((o) => o.kind === "Domain"), "json", true));
    assert.equal(single.kind, "Domain");
    const list = JSON.parse(await printObjects(objects, "json", false));
    assert.equal(list.kind, "List");

    out.stdout = "";
    await apply(rt, { files: [`${EXAMPLES_DIR}/basic.yaml`], wait: true, timeoutMs: 30_000 });
    assert.equal(out.stdout.match(/unchanged/g)?.length, 4);

    out.stdout = "";
    await deleteObjects(rt, [{ kind: "Domain", namespace: "default", name: "web" }], {
      wait: true,
      timeoutMs: 30_000,
      ignoreNotFound: false,
    });
    assert.equal(out.stdout, "domain/web deleted\n");
    assert.equal(await rt.store.get({ kind: "Volume", namespace: "default", name: "web" }), undefined);
    assert.ok(await rt.store.get({ kind: "Volume", namespace: "default", name: "web-data" }));
  } finally {
    await h.close();
  }
});
