/** The three-way merge of lv apply: tables of set/unset/changed/list cases, legacy objects, two writers. */
import assert from "node:assert/strict";
import { LAST_APPLIED_ANNOTATION } from "../../src/api/merge.ts";
import type { AnyResource, Domain, Network, ShellProvisioner, Volume } from "../../src/api/types.ts";
import { apply, applyOne } from "../../src/cli/apply.ts";
import { InvalidInputError } from "../../src/cli/errors.ts";
import { setState } from "../../src/cli/verbs.ts";
import { getCondition } from "../../src/api/conditions.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { type ApplyPlan, planApply } from "../../src/cli/apply_plan.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { keyOf } from "../../src/store/store.ts";
import { newCliHarness } from "./cli_harness.ts";

const HEAD = "apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata:\n  name: web\n";

function parse(text: string): AnyResource {
  const { resources, problems } = parseManifests(text, "web.yaml");
  assert.deepEqual(problems, []);
  return resources[0];
}

/** A Domain with these spec lines; a first line `labels: ...` goes into metadata. */
function domain(spec: string): AnyResource {
  const labels = /^ {2}labels: .*\n/.exec(spec)?.[0] ?? "";
  return parse(`${HEAD}${labels}spec:\n  communicator: none\n${spec.slice(labels.length)}`);
}

/** Stores what applying `first` gives, lets `change` act on it as another writer, then plans `second`. */
function applyTwice(first: AnyResource, change: (d: Domain) => void, second: AnyResource): ApplyPlan {
  const live = planApply(first, undefined).next as Domain;
  change(live);
  return planApply(second, live);
}

Deno.test("planApply() merges the file, the last apply and the live object", async (t) => {
  const cases: {
    name: string;
    first: string;
    other?: (d: Domain) => void;
    second: string;
    want: (d: Domain) => unknown;
    expected: unknown;
    result?: string;
  }[] = [
    {
      name: "a field the file never set keeps what a verb set (lv halt)",
      first: "",
      other: (d) => d.spec.state = "Stopped",
      second: "",
      want: (d) => d.spec.state,
      expected: "Stopped",
      result: "unchanged",
    },
    {
      name: "a field the file sets wins over a verb",
      first: "",
      other: (d) => d.spec.state = "Stopped",
      second: "  state: Running\n",
      want: (d) => d.spec.state,
      expected: "Running",
      result: "configured",
    },
    {
      name: "a field removed from the file goes back to its default",
      first: "  memory: 1024\n",
      second: "",
      want: (d) => d.spec.memory,
      expected: 512,
      result: "configured",
    },
    {
      name: "a field removed from the file goes back to its default even after someone changed it",
      first: "  cpus: 2\n",
      other: (d) => d.spec.cpus = 3,
      second: "",
      want: (d) => d.spec.cpus,
      expected: 1,
    },
    {
      name: "a changed field takes the file's value",
      first: "  memory: 1024\n",
      second: "  memory: 2Gi\n",
      want: (d) => d.spec.memory,
      expected: 2048,
    },
    {
      name: "a field set by lv edit and not in the file is kept",
      first: "  memory: 1024\n",
      other: (d) => d.spec.hostname = "edited",
      second: "  memory: 2048\n",
      want: (d) => [d.spec.hostname, d.spec.memory],
      expected: ["edited", 2048],
    },
    {
      name: "an object field merges field by field",
      first: "  ssh:\n    user: a\n",
      other: (d) => d.spec.ssh.port = 2222,
      second: "  ssh:\n    forwardAgent: true\n",
      want: (d) => d.spec.ssh,
      expected: { user: "vagrant", port: 2222, insertKey: true, forwardAgent: true, forwardX11: false },
    },
    {
      name: "labels and annotations: removed ones go, lv's own request annotations stay",
      first: "  labels: {a: '1', b: '2'}\n",
      other: (d) => d.metadata.annotations["lv.dev/restartedAt"] = "now",
      second: "  labels: {a: '1'}\n",
      want: (d) => [d.metadata.labels, d.metadata.annotations["lv.dev/restartedAt"]],
      expected: [{ a: "1" }, "now"],
    },
    {
      name: "list items merge by key: an item's field set by someone else stays",
      first: "  interfaces:\n  - network: a\n  - network: b\n",
      other: (d) => d.spec.interfaces[1].mac = "52:54:00:00:00:0b",
      second: "  interfaces:\n  - network: b\n  - network: a\n    ip: 10.0.0.5\n",
      want: (d) => d.spec.interfaces.map((i) => [i.network, i.mac, i.ip]),
      expected: [["b", "52:54:00:00:00:0b", undefined], ["a", undefined, "10.0.0.5"]],
    },
    {
      name: "list items removed from the file go; items someone else added stay",
      first: "  disks:\n  - volume: one\n  - volume: two\n",
      other: (d) => d.spec.disks.push({ volume: "added", device: "vdz", bus: "virtio" }),
      second: "  disks:\n  - volume: one\n",
      want: (d) => d.spec.disks.map((x) => x.volume),
      expected: ["one", "added"],
    },
    {
      name: "provisioners match by name, unnamed ones by position",
      first: "  provision:\n  - name: setup\n    inline: a\n  - inline: b\n",
      other: (d) => (d.spec.provision[0] as ShellProvisioner).env = { X: "1" },
      second: "  provision:\n  - name: setup\n    inline: a2\n  - inline: b2\n",
      want: (d) => (d.spec.provision as ShellProvisioner[]).map((p) => [p.name, p.inline, p.env]),
      expected: [["setup", "a2", { X: "1" }], [undefined, "b2", {}]],
    },
    {
      name: "an unchanged file over an unchanged object is unchanged",
      first: "  memory: 1024\n  interfaces:\n  - network: a\n",
      second: "  memory: 1024\n  interfaces:\n  - network: a\n",
      want: (d) => d.spec.memory,
      expected: 1024,
      result: "unchanged",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const plan = applyTwice(domain(c.first), c.other ?? (() => {}), domain(c.second));
      assert.deepEqual(c.want(plan.next as Domain), c.expected);
      if (c.result) assert.equal(plan.result, c.result);
    });
  }
});

Deno.test("planApply() recomputes a default that depends on a field the file changed", () => {
  const net = (address: string) =>
    parse(
      `apiVersion: lv.dev/v1alpha1\nkind: Network\nmetadata:\n  name: n\nspec:\n  ipv4:\n    address: ${address}\n  dhcp:\n    hosts:\n    - mac: 52:54:00:00:00:01\n      ip: ${
        address.replace(/1$/, "9")
      }\n`,
    );
  const live = planApply(net("10.1.0.1"), undefined).next as Network;
  live.spec.dhcp.hosts.push({ mac: "52:54:00:00:00:02", ip: "10.1.0.7" }); // someone added a reservation
  const next = planApply(net("10.1.0.1"), live).next as Network;
  assert.deepEqual(next.spec.dhcp.hosts.map((h) => h.mac), ["52:54:00:00:00:01", "52:54:00:00:00:02"]);
  const moved = planApply(net("10.2.0.1"), planApply(net("10.1.0.1"), undefined).next).next as Network;
  assert.deepEqual(moved.spec.dhcp.range, { start: "10.2.0.2", end: "10.2.0.254" });
});

Deno.test("planApply() over an object applied before lv kept a record keeps what the file leaves out", () => {
  const legacy = planApply(domain("  memory: 1024\n"), undefined).next as Domain;
  delete legacy.metadata.annotations[LAST_APPLIED_ANNOTATION];
  legacy.spec.state = "Stopped";
  const plan = planApply(domain("  memory: 2048\n"), legacy);
  assert.equal(plan.result, "configured");
  assert.deepEqual([(plan.next as Domain).spec.state, (plan.next as Domain).spec.memory], ["Stopped", 2048]);
  assert.ok(plan.next.metadata.annotations[LAST_APPLIED_ANNOTATION], "the record is written from now on");
  const same = planApply(domain("  memory: 1024\n"), { ...legacy, spec: { ...legacy.spec } });
  assert.deepEqual([same.result, same.recordOnly], ["unchanged", true]);
});

Deno.test("planApply() of an object printed by lv get keeps its record and is unchanged", () => {
  const live = planApply(domain("  memory: 1024\n"), undefined).next as Domain;
  live.spec.state = "Stopped";
  const dump = parse(JSON.stringify({ ...live, status: { phase: "Stopped" } }));
  const plan = planApply(dump, live);
  assert.deepEqual([plan.result, plan.recordOnly], ["unchanged", false]);
});

Deno.test("applyOne() retries a conflict on the new resourceVersion and keeps the other writer's change", async () => {
  const h = await newCliHarness();
  try {
    await applyOne(h.rt, domain("  memory: 1024\n"));
    const store = h.rt.store;
    const update = store.update.bind(store);
    const writeAll = store.writeAll.bind(store);
    let raced = false;
    store.writeAll = async (writes) => {
      if (!raced) {
        raced = true; // a second writer (lv halt) gets in between apply's read and write
        const other = (await store.get(keyOf(writes[0].obj))) as Domain;
        other.spec.state = "Stopped";
        await update(other);
      }
      return writeAll(writes);
    };
    assert.equal(await applyOne(h.rt, domain("  memory: 2048\n")), "configured");
    assert.ok(raced);
    const stored = (await store.get(keyOf(domain("")))) as Domain;
    assert.deepEqual([stored.spec.state, stored.spec.memory], ["Stopped", 2048]);
  } finally {
    await h.close();
  }
});

Deno.test("apply refuses an immutable change, and --force replaces the object in libvirt", async () => {
  const h = await newCliHarness({ defaultPool: true });
  const lines: string[] = [];
  const rt = { ...h.rt, output: { out: (t: string) => void lines.push(t), err: () => {} } };
  const dir = await Deno.makeTempDir();
  const file = `${dir}/v.yaml`;
  const volume = (format: string) =>
    `apiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata: {name: data}\nspec:\n  size: 1Mi\n  format: ${format}\n`;
  try {
    await Deno.writeTextFile(file, volume("qcow2"));
    await apply(rt, { files: [file], wait: true, timeoutMs: 30_000 });
    const first = (await h.store.get({ kind: "Volume", namespace: "default", name: "data" }))!;
    await Deno.writeTextFile(file, volume("raw"));
    await assert.rejects(
      apply(rt, { files: [file], wait: true, timeoutMs: 30_000 }),
      (e: InvalidInputError) => {
        assert.match(
          e.lines[0],
          /v\.yaml:6:11: spec\.format: volume\/data: cannot change: delete and re-create/,
        );
        return true;
      },
    );
    const mark = h.fake.mark();
    await apply(rt, { files: [file], wait: true, timeoutMs: 30_000, force: true });
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["vol-delete", "vol-create"]);
    const second = (await h.store.get({ kind: "Volume", namespace: "default", name: "data" }))!;
    assert.notEqual(second.metadata.uid, first.metadata.uid, "a new object");
    assert.equal((second as Volume).spec.format, "raw");
    assert.deepEqual(lines.slice(-2), ["volume/data deleted\n", "volume/data created\n"]);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("halt, apply again: stays shut off; a memory change needs a restart that --restart does", async () => {
  const h = await newCliHarness({ defaultPool: true });
  const rt = { ...h.rt, output: { out: () => {}, err: () => {} } };
  const dir = await Deno.makeTempDir();
  const file = `${dir}/web.yaml`;
  const write = (memory: number) =>
    Deno.writeTextFile(file, `${HEAD}spec:\n  communicator: none\n  driver: qemu\n  memory: ${memory}\n`);
  const options = { files: [file], wait: true, timeoutMs: 30_000 };
  const memory = (inactive: boolean) => parseDomainXml(h.fake.domainXml("web", { inactive })).memoryMiB;
  try {
    await write(256);
    await apply(rt, options);
    await setState(rt, "halt", ["web"], { wait: true, timeoutMs: 30_000, namespace: "default" });
    assert.equal(h.fake.domains.get("web")?.state, "shut off");
    await apply(rt, options);
    assert.equal(h.fake.domains.get("web")?.state, "shut off", "the re-apply left it halted");
    await setState(rt, "up", ["web"], { wait: true, timeoutMs: 30_000, namespace: "default" });

    await write(384);
    await apply(rt, options);
    const dom = (await h.store.get(keyOf(domain("")))) as Domain;
    assert.match(getCondition(dom.status, "RestartRequired")?.message ?? "", /^spec\.memory takes effect/);
    assert.deepEqual([memory(true), memory(false)], [384, 256]);

    await write(512);
    await apply(rt, { ...options, restart: true });
    assert.deepEqual([memory(true), memory(false)], [512, 512], "restarted before apply returned");
    const after = (await h.store.get(keyOf(domain("")))) as Domain;
    assert.equal(getCondition(after.status, "RestartRequired"), undefined);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
