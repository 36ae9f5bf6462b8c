/**
 * Reconcilers across kinds, driven by the real Manager against FakeVirsh, and checks that FakeVirsh answers
 * the way libvirt does (compared with virsh's own test driver where it can run the same command).
 */
import assert from "node:assert/strict";
import type { AnyResource, Domain, Kind, Network } from "../../src/api/types.ts";
import type { Manager } from "../../src/controller/manager.ts";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import { VirshError } from "../../src/libvirt/virsh.ts";
import { networkXml } from "../../src/libvirt/xml/network_xml.ts";
import { keyString } from "../../src/store/store.ts";
import { FakeVirsh, UNREACHABLE_STDERR } from "./fake_virsh.ts";
import {
  allReady,
  basicExample,
  describeStore,
  example,
  type Harness,
  key,
  newHarness,
  ready,
  runManagerUntil,
} from "./harness.ts";

function basic(): AnyResource[] {
  const all = basicExample();
  (all["Domain/web"] as Domain).spec.communicator = "none";
  return Object.values(all);
}

async function withHarness(fn: (h: Harness) => Promise<void>, defaultPool = true) {
  const h = await newHarness({ defaultPool });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

// ------------------------------------------------------------------ FakeVirsh agrees with libvirt

async function testDriver(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command("virsh", {
    args: ["-q", "-c", "test:///default", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("FakeVirsh reports missing objects in virsh's words, and VirshError.notFound recognises them", async (t) => {
  const fake = new FakeVirsh();
  fake.addPool("default");
  const cases: [string, string[], boolean][] = [
    // [name, argv, compare with virsh's test driver]
    ["dumpxml", ["dumpxml", "--inactive", "nope"], true],
    ["domstate", ["domstate", "--reason", "nope"], true],
    [
      "undefine",
      ["undefine", "nope", "--managed-save", "--snapshots-metadata", "--checkpoints-metadata"],
      true,
    ],
    ["destroy", ["destroy", "nope"], true],
    ["net-dumpxml", ["net-dumpxml", "--inactive", "nope"], true],
    ["net-info", ["net-info", "nope"], true],
    ["net-undefine", ["net-undefine", "nope"], true],
    ["net-destroy", ["net-destroy", "nope"], true],
    ["pool-dumpxml", ["pool-dumpxml", "nope"], true],
    ["pool-info", ["pool-info", "nope"], true],
    ["vol-dumpxml in a missing pool", ["vol-dumpxml", "--pool", "nope", "v"], true],
    ["vol-dumpxml of a missing volume", ["vol-dumpxml", "--pool", "default", "nope"], false],
    ["vol-delete of a missing volume", ["vol-delete", "--pool", "default", "nope"], false],
  ];
  for (const [name, args, compare] of cases) {
    await t.step(name, async () => {
      const result = await fake.run(args);
      assert.equal(result.code, 1);
      assert.ok(new VirshError(args, result).notFound, `notFound for: ${result.stderr}`);
      if (compare) {
        const real = await testDriver(args);
        assert.equal(result.stderr, real.stderr);
      }
    });
  }
  await t.step("a missing volume reads like libvirt's storage driver", async () => {
    const result = await fake.run(["vol-dumpxml", "--pool", "default", "nope"]);
    assert.equal(
      result.stderr,
      "error: failed to get vol 'nope'\nerror: Storage volume not found: no storage vol with matching path 'nope'\n",
    );
  });
});

Deno.test("FakeVirsh refuses what libvirt refuses, in libvirt's words", async (t) => {
  const fake = new FakeVirsh();
  const lv = new Libvirt(fake);
  const net = example<Network>("Network", "basic-net");
  net.metadata.uid = "u1";
  await lv.netDefine(networkXml(net));
  const uuid = fake.networks.get("basic-net")!.uuid;
  const cases: [string, string[], string | undefined, RegExp][] = [
    [
      "a second define of a name without its uuid",
      ["net-define", "/dev/stdin"],
      networkXml(net),
      new RegExp(
        `^error: Failed to define network from /dev/stdin\nerror: operation failed: network 'basic-net' already exists with uuid ${uuid}\n$`,
      ),
    ],
    [
      "a define under another uuid",
      ["net-define", "/dev/stdin"],
      networkXml(net, { uuid: "11111111-2222-3333-4444-555555555555" }),
      /operation failed: network 'basic-net' already exists with uuid/,
    ],
    [
      "another name under a taken uuid",
      ["net-define", "/dev/stdin"],
      networkXml({ ...net, metadata: { ...net.metadata, name: "other" } }, { uuid }),
      /operation failed: network 'basic-net' is already defined with uuid/,
    ],
    [
      "XML that is not well-formed",
      ["define", "/dev/stdin"],
      "<domain type='qemu'><name>x</name>",
      /^error: Failed to define domain from \/dev\/stdin\nerror: \(domain_definition\):\d+: /,
    ],
    [
      "a domain without a name",
      ["define", "/dev/stdin"],
      "<domain type='qemu'/>",
      /missing name information/,
    ],
    [
      "a kvm domain on a host without KVM",
      ["define", "/dev/stdin"],
      "<domain type='kvm'><name>k</name><memory>1024</memory><os><type>hvm</type></os></domain>",
      /could not find capabilities for arch=x86_64 domaintype=kvm/,
    ],
    [
      "stopping a network that is not active",
      ["net-destroy", "basic-net"],
      undefined,
      /network 'basic-net' is not active/,
    ],
    ["an unknown command", ["frobnicate"], undefined, /unknown command: 'frobnicate'/],
    ["an unknown option", ["net-start", "--bogus", "basic-net"], undefined, /doesn't support option --bogus/],
  ];
  for (const [name, args, stdin, message] of cases) {
    await t.step(name, async () => {
      const result = await fake.run(args, { stdin });
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
      assert.equal(new VirshError(args, result).notFound, false);
    });
  }
  await t.step("a redefinition under the same uuid is accepted", async () => {
    await lv.netDefine(networkXml(net, { uuid }));
    assert.equal(fake.networks.get("basic-net")!.uuid, uuid);
  });
});

Deno.test("FakeVirsh keeps a running domain's live definition until it restarts", async () => {
  const fake = new FakeVirsh();
  const lv = new Libvirt(fake);
  const xml = (mem: number, uuid?: string) =>
    `<domain type='qemu'><name>d</name>${
      uuid ? `<uuid>${uuid}</uuid>` : ""
    }<memory unit='MiB'>${mem}</memory>` +
    `<os><type>hvm</type></os><devices><interface type='network'><source network='n'/></interface></devices></domain>`;
  fake.seed(
    ["net-define", "/dev/stdin"],
    "<network><name>n</name><ip address='10.9.0.1' prefix='24'/></network>",
  );
  fake.seed(["net-start", "n"]);
  await lv.domDefine(xml(256));
  const uuid = fake.domains.get("d")!.uuid;
  await lv.domStart("d");
  assert.deepEqual(await lv.domState("d"), { state: "running", reason: "booted" });
  await lv.domDefine(xml(512, uuid));
  assert.match((await lv.domGet("d"))!, /<memory unit='KiB'>524288<\/memory>/);
  assert.match(await lv.domLiveXml("d"), /<memory unit='KiB'>262144<\/memory>/);
  assert.match(await lv.domLiveXml("d"), /<domain type='qemu' id='1'>/);
  assert.match(await lv.domLiveXml("d"), /<target dev='vnet0'\/>/);
  assert.match((await lv.domGet("d"))!, /<mac address='52:54:00:[0-9a-f:]+'\/>/, "libvirt generates a MAC");
  const mac = /<mac address='([^']+)'/.exec(await lv.domLiveXml("d"))![1];
  fake.setLeases("n", [{ mac, ip: "10.9.0.5", hostname: "d" }]);
  assert.deepEqual(await lv.netDhcpLeases("n"), [{ mac, ip: "10.9.0.5", hostname: "d" }]);
  assert.deepEqual(await lv.domIfAddr("d", "lease"), [{ mac, ip: "10.9.0.5" }]);
  await lv.domDestroy("d");
  assert.deepEqual(await lv.domState("d"), { state: "shut off", reason: "destroyed" });
  await lv.domStart("d");
  assert.match(await lv.domLiveXml("d"), /<memory unit='KiB'>524288<\/memory>/);
  // Undefining a running domain leaves it running, transient; it vanishes when it stops.
  await lv.domUndefine("d");
  assert.equal(fake.domains.get("d")!.persistent, false);
  await lv.domDestroy("d");
  assert.equal(await lv.domGet("d"), undefined);
});

Deno.test("FakeVirsh: unreachable mode fails every command the way a missing libvirtd does", async () => {
  const fake = new FakeVirsh();
  fake.unreachable = true;
  const lv = new Libvirt(fake);
  const error = await lv.version().catch((e) => e);
  assert.ok(error instanceof VirshError);
  assert.equal(error.unreachable, true);
  assert.equal(error.notFound, false);
  assert.equal(error.stderr, UNREACHABLE_STDERR);
  await assert.rejects(lv.domGet("x"), VirshError, "not taken for not-found");
});

// ------------------------------------------------------------------ all kinds, through the Manager

const ALL: [Kind, string][] = [
  ["Box", "tiny"],
  ["Network", "basic-net"],
  ["Volume", "web-data"],
  ["Volume", "web"],
  ["Domain", "web"],
];

Deno.test("Manager converges examples/basic.yaml; a resync pass then changes nothing in libvirt", async () => {
  await withHarness(async (h) => {
    for (const obj of basic()) await h.store.create(obj);
    await runManagerUntil(h, () => allReady(h), { timeoutMs: 10_000 });
    for (const [kind, name] of ALL) assert.ok(await h.store.get(key(kind, name)), `${kind}/${name}`);
    assert.equal(h.fake.domains.get("web")!.state, "running");
    // Each libvirt object was made exactly once.
    const made = h.fake.mutations().filter((c) =>
      ["vol-create", "net-define", "define", "start"].includes(c[0])
    );
    assert.equal(made.length, 6, JSON.stringify(made)); // 3 volumes, 1 network, define + start

    // A fresh manager queues every object at start: a full resync.
    const mark = h.fake.mark();
    let manager: Manager | undefined;
    await runManagerUntil(
      h,
      () => Promise.resolve((manager?.reconciles ?? 0) >= ALL.length && manager!.queue.idle),
      {
        onManager: (m) => manager = m,
      },
    );
    assert.deepEqual(h.fake.mutations(mark), []);
  });
});

Deno.test("Manager: deleting everything of basic.yaml leaves libvirt as it was", async () => {
  await withHarness(async (h) => {
    for (const obj of basic()) await h.store.create(obj);
    await runManagerUntil(h, () => allReady(h), { timeoutMs: 10_000 });
    for (const obj of basic()) await h.store.delete(key(obj.kind, obj.metadata.name));
    const empty = async () => {
      for (const kind of ["Box", "Volume", "Network", "Domain"] as Kind[]) {
        if ((await h.store.list(kind)).length > 0) return false;
      }
      return true;
    };
    await runManagerUntil(h, empty, { timeoutMs: 15_000 });
    assert.equal(h.fake.domains.size, 0);
    assert.equal(h.fake.networks.size, 0);
    assert.deepEqual([...h.fake.pools.get("default")!.volumes.keys()], []);
  });
});

Deno.test("Manager: libvirt unreachable gives Ready=False LibvirtUnreachable, retried with backoff, then recovers", async () => {
  await withHarness(async (h) => {
    const net = await h.store.create(example<Network>("Network", "basic-net"));
    const k = keyString(key("Network", "basic-net"));
    h.fake.unreachable = true;
    let failures = 0;
    await runManagerUntil(h, async () => {
      const r = ready(await h.store.get(key("Network", "basic-net")));
      return r?.reason === "LibvirtUnreachable" && failures >= 3;
    }, {
      manager: { baseDelayMs: 20, maxDelayMs: 1000 },
      onManager: (m) => {
        const original = m.queue.addRateLimited.bind(m.queue);
        m.queue.addRateLimited = (key: string) => {
          if (key === k) failures++;
          return original(key);
        };
      },
    });
    const obj = await h.store.get(key("Network", "basic-net"));
    assert.equal(ready(obj)?.status, "False");
    assert.match(ready(obj)!.message, /failed to connect to the hypervisor/);
    assert.match(ready(obj)!.message, /retrying in/);
    const events = await h.store.events(key("Network", "basic-net"));
    assert.ok(events.some((e) => e.type === "Warning" && e.reason === "LibvirtUnreachable"));
    assert.equal(h.fake.networks.size, 0);

    h.fake.unreachable = false;
    const m = await runManagerUntil(h, () => allReady(h), { timeoutMs: 5000 });
    assert.equal(m.queue.failures(k), 0, "a success forgets the failures");
    assert.equal(h.fake.networks.get("basic-net")!.active, true);
    assert.equal((await h.store.get(key("Network", "basic-net")))!.metadata.uid, net.metadata.uid);
  });
});

Deno.test({
  name: "Manager: retries of an unreachable libvirt follow the backoff, not the store's poll rate",
  // Guards the manager's backoff: each failure writes a new Ready message ("retrying in N.Ns"), and the
  // manager's watch must not take that status-only write of its own as a reason to re-queue the key at once
  // (enqueueRelated with statusOnly). Otherwise libvirt is hit at the store's poll rate (pollMs 5) instead of
  // on the backoff (baseDelayMs 200: about three attempts in a second).

  fn: async () => {
    await withHarness(async (h) => {
      await h.store.create(example<Network>("Network", "basic-net"));
      h.fake.unreachable = true;
      const started = Date.now();
      await runManagerUntil(h, () => Promise.resolve(Date.now() - started > 1000), {
        manager: { baseDelayMs: 200, maxDelayMs: 30_000, pollMs: 5 },
      });
      // 200 + 400 ms fit in a second (+ the first attempt): at most ~4 passes, each one `net-dumpxml`.
      const attempts = h.fake.callsOf("net-dumpxml").length;
      assert.ok(attempts <= 5, `${attempts} attempts in one second:\n${await describeStore(h)}`);
    });
  },
});
