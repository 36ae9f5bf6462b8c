import assert from "node:assert/strict";
import { FINALIZER } from "../../src/controller/context.ts";
import type { Domain, Network } from "../../src/api/types.ts";
import { networkXml, parseNetworkXml } from "../../src/libvirt/xml/network_xml.ts";
import {
  converge,
  createAll,
  editSpec,
  example,
  type Harness,
  key,
  mustGet,
  newHarness,
  pass,
  passOk,
  ready,
  runManagerUntil,
} from "./harness.ts";

const NET: [["Network", string]] = [["Network", "basic-net"]];

async function withNetwork(fn: (h: Harness, net: Network) => Promise<void>, edit?: (n: Network) => void) {
  const h = await newHarness();
  try {
    const [net] = await createAll(h, [example<Network>("Network", "basic-net", edit)]);
    await fn(h, net as Network);
  } finally {
    await h.close();
  }
}

function xmlOf(h: Harness, name = "basic-net", inactive = true) {
  return parseNetworkXml(h.fake.seed(["net-dumpxml", ...(inactive ? ["--inactive"] : []), name]));
}

Deno.test("networkReconciler converges from nothing: defined, started, autostarted, owned, Ready", async () => {
  await withNetwork(async (h, created) => {
    await converge(h, NET);
    assert.deepEqual(h.fake.mutations().map((c) => c[0]), ["net-define", "net-start", "net-autostart"]);
    const fakeNet = h.fake.networks.get("basic-net")!;
    assert.equal(fakeNet.active, true);
    assert.equal(fakeNet.autostart, true);
    assert.equal(fakeNet.persistent, true);
    const xml = xmlOf(h);
    assert.equal(xml.owner?.uid, created.metadata.uid);
    assert.equal(xml.mode, "nat");
    assert.deepEqual(xml.ipv4, { address: "10.123.0.1", prefix: 24 });
    const net = await mustGet<Network>(h, "Network", "basic-net");
    assert.deepEqual(net.metadata.finalizers, [FINALIZER]);
    assert.equal(ready(net)?.status, "True");
    assert.equal(net.status.phase, "Active");
    assert.equal(net.status.bridge, "virbr0");
    assert.equal(net.status.observedGeneration, net.metadata.generation);
  });
});

Deno.test("networkReconciler: a second pass over a converged network makes no libvirt change", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    const mark = h.fake.mark();
    const head = await h.store.head();
    await passOk(h, "Network", "basic-net");
    await passOk(h, "Network", "basic-net");
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head, "status is written only when it changed");
  });
});

Deno.test("networkReconciler: autostart false is applied with net-autostart --disable, once", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    await editSpec<Network>(h, "Network", "basic-net", (n) => n.spec.autostart = false);
    const mark = h.fake.mark();
    await converge(h, NET);
    assert.deepEqual(h.fake.mutations(mark), [["net-autostart", "basic-net", "--disable"]]);
    assert.equal(h.fake.networks.get("basic-net")!.autostart, false);
  });
});

Deno.test("networkReconciler: a spec change redefines the network under its uuid and restarts it", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    const uuid = h.fake.networks.get("basic-net")!.uuid;
    const net = await editSpec<Network>(h, "Network", "basic-net", (n) => {
      n.spec.ipv4 = { address: "10.124.0.1", prefix: 24 };
      n.spec.dhcp.range = { start: "10.124.0.10", end: "10.124.0.20" };
    });
    const mark = h.fake.mark();
    await converge(h, NET);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["net-define", "net-destroy", "net-start"]);
    assert.equal(h.fake.networks.get("basic-net")!.uuid, uuid);
    for (const inactive of [true, false]) {
      const xml = xmlOf(h, "basic-net", inactive);
      assert.deepEqual(xml.ipv4, { address: "10.124.0.1", prefix: 24 }, `inactive=${inactive}`);
      assert.deepEqual(xml.dhcp.range, { start: "10.124.0.10", end: "10.124.0.20" });
    }
    const after = await mustGet<Network>(h, "Network", "basic-net");
    assert.equal(after.status.observedGeneration, net.metadata.generation);
    assert.equal(ready(after)?.status, "True");
    const again = h.fake.mark();
    await passOk(h, "Network", "basic-net");
    assert.deepEqual(h.fake.mutations(again), []);
  });
});

Deno.test("networkReconciler heals drift: a network stopped behind lv's back is started again", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    h.fake.seed(["net-destroy", "basic-net"]);
    const mark = h.fake.mark();
    await converge(h, NET);
    assert.deepEqual(h.fake.mutations(mark), [["net-start", "basic-net"]]);
  });
});

Deno.test("networkReconciler heals drift: a network edited by hand (virsh net-edit) is redefined", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    const edited = h.fake.seed(["net-dumpxml", "--inactive", "basic-net"]).replace("10.123.0.1", "10.99.0.1");
    h.fake.seed(["net-define", "/dev/stdin"], edited);
    assert.equal(xmlOf(h).ipv4?.address, "10.99.0.1");
    const mark = h.fake.mark();
    await converge(h, NET);
    assert.equal(xmlOf(h).ipv4?.address, "10.123.0.1");
    assert.equal(xmlOf(h, "basic-net", false).ipv4?.address, "10.123.0.1", "restarted: live config too");
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["net-define", "net-destroy", "net-start"]);
  });
});

Deno.test("networkReconciler: deletion destroys and undefines the network, then removes the finalizer", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    await h.store.delete(key("Network", "basic-net"));
    assert.ok(await h.store.get(key("Network", "basic-net")), "the finalizer holds it");
    const mark = h.fake.mark();
    await passOk(h, "Network", "basic-net");
    assert.deepEqual(h.fake.mutations(mark), [["net-destroy", "basic-net"], ["net-undefine", "basic-net"]]);
    assert.equal(h.fake.networks.has("basic-net"), false);
    assert.equal(await h.store.get(key("Network", "basic-net")), undefined);
  });
});

Deno.test("networkReconciler: deletion counts a network already gone as done", async (t) => {
  await t.step("gone before the pass", async () => {
    await withNetwork(async (h) => {
      await converge(h, NET);
      h.fake.seed(["net-destroy", "basic-net"]);
      h.fake.seed(["net-undefine", "basic-net"]);
      await h.store.delete(key("Network", "basic-net"));
      const mark = h.fake.mark();
      await passOk(h, "Network", "basic-net");
      assert.deepEqual(h.fake.mutations(mark), []);
      assert.equal(await h.store.get(key("Network", "basic-net")), undefined);
    });
  });
  await t.step("removed by someone else between lv's look and its destroy", async () => {
    await withNetwork(async (h) => {
      await converge(h, NET);
      await h.store.delete(key("Network", "basic-net"));
      h.fake.beforeCall = (args) => {
        if (args[0] === "net-destroy" && h.fake.networks.has("basic-net")) {
          h.fake.seed(["net-destroy", "basic-net"]);
          h.fake.seed(["net-undefine", "basic-net"]);
        }
      };
      await passOk(h, "Network", "basic-net");
      assert.equal(await h.store.get(key("Network", "basic-net")), undefined);
    });
  });
  await t.step("an inactive network is undefined without an error", async () => {
    await withNetwork(async (h) => {
      await converge(h, NET);
      h.fake.seed(["net-destroy", "basic-net"]);
      await h.store.delete(key("Network", "basic-net"));
      await passOk(h, "Network", "basic-net");
      assert.equal(h.fake.networks.has("basic-net"), false);
      assert.equal(await h.store.get(key("Network", "basic-net")), undefined);
    });
  });
});

const FOREIGN = `<network>
  <name>basic-net</name>
  <forward mode='nat'/>
  <ip address='192.168.200.1' prefix='24'/>
</network>`;

Deno.test("networkReconciler: a same-named network lv did not create gets NameConflict and is never touched", async () => {
  await withNetwork(async (h) => {
    h.fake.seed(["net-define", "/dev/stdin"], FOREIGN);
    h.fake.seed(["net-start", "basic-net"]);
    const before = h.fake.seed(["net-dumpxml", "--inactive", "basic-net"]);
    await runManagerUntil(
      h,
      async () => ready(await h.store.get(key("Network", "basic-net")))?.reason === "NameConflict",
    );
    const net = await mustGet<Network>(h, "Network", "basic-net");
    assert.equal(ready(net)?.status, "False");
    assert.match(ready(net)!.message, /lv did not create/);
    assert.deepEqual(h.fake.mutations(), [], "no libvirt change at all");

    // Deleting the lv object leaves the foreign network alone.
    await h.store.delete(key("Network", "basic-net"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Network", "basic-net"))));
    assert.deepEqual(h.fake.mutations(), []);
    assert.equal(h.fake.seed(["net-dumpxml", "--inactive", "basic-net"]), before);
    assert.equal(h.fake.networks.get("basic-net")!.active, true);
  });
});

Deno.test("networkReconciler: a network owned by another lv object (other uid) is a NameConflict naming that owner", async () => {
  await withNetwork(async (h) => {
    const other = example<Network>("Network", "basic-net");
    other.metadata.uid = "0000-other-uid";
    h.fake.seed(["net-define", "/dev/stdin"], networkXml(other));
    const r = await pass(h, "Network", "basic-net");
    assert.equal((r.error as { reason?: string })?.reason, "NameConflict");
    assert.match(String(r.error), /0000-other-uid/);
    assert.deepEqual(h.fake.mutations(), []);
  });
});

Deno.test("networkReconciler: a Domain's static ip becomes a DHCP reservation, changed live without a restart", async () => {
  await withNetwork(async (h) => {
    await converge(h, NET);
    const dom = example<Domain>("Domain", "web", (d) => {
      d.spec.interfaces[0].ip = "10.123.0.50";
      d.spec.interfaces[0].mac = "52:54:00:12:34:56";
    });
    await h.store.create(dom);
    const mark = h.fake.mark();
    await converge(h, NET);
    const muts = h.fake.mutations(mark);
    assert.ok(muts.every((c) => c[0] === "net-update"), `only net-update, got ${JSON.stringify(muts)}`);
    for (const inactive of [true, false]) {
      assert.deepEqual(xmlOf(h, "basic-net", inactive).dhcp.hosts, [{
        mac: "52:54:00:12:34:56",
        ip: "10.123.0.50",
      }]);
    }
    const net = await mustGet<Network>(h, "Network", "basic-net");
    assert.deepEqual(net.status.reservations, ["52:54:00:12:34:56=10.123.0.50"]);
    const again = h.fake.mark();
    await passOk(h, "Network", "basic-net");
    assert.deepEqual(h.fake.mutations(again), []);
  });
});
