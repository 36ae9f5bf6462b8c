import assert from "node:assert/strict";
import { getCondition } from "../../src/api/conditions.ts";
import type { AnyResource, Domain, DomainState, Network, Volume } from "../../src/api/types.ts";
import { FINALIZER, WaitingError } from "../../src/controller/context.ts";
import { domainXml, parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import {
  allReady,
  BASIC_OBJECTS,
  basicExample,
  converge,
  createAll,
  editSpec,
  type Harness,
  key,
  mustGet,
  newHarness,
  pass,
  passOk,
  ready,
  runManagerUntil,
} from "./harness.ts";

/** basic.yaml's objects, the Domain without a guest OS to talk to (no SSH in unit tests). */
function basic(edit?: (d: Domain) => void): AnyResource[] {
  const all = basicExample();
  const dom = all["Domain/web"] as Domain;
  dom.spec.communicator = "none";
  edit?.(dom);
  return Object.values(all);
}

const ALL = BASIC_OBJECTS;
const DOM: [["Domain", string]] = [["Domain", "web"]];

async function withBasic(fn: (h: Harness) => Promise<void>, edit?: (d: Domain) => void) {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, basic(edit));
    await fn(h);
  } finally {
    await h.close();
  }
}

const domXml = (h: Harness, inactive: boolean) => parseDomainXml(h.fake.domainXml("web", { inactive }));

Deno.test("domainReconciler converges from nothing: box overlay, disks, NIC, defined, started, owned, Ready", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.deepEqual(dom.metadata.finalizers, [FINALIZER]);
    assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
    assert.equal(dom.status.phase, "Running");
    assert.equal(dom.status.state, "running");
    assert.equal(dom.status.driver, "qemu");
    assert.equal(dom.status.observedGeneration, dom.metadata.generation);

    const xml = domXml(h, true);
    assert.equal(xml.owner?.uid, dom.metadata.uid);
    assert.equal(xml.type, "qemu");
    assert.equal(xml.memoryMiB, 256);
    assert.deepEqual(xml.disks.map((d) => [d.device, d.path, d.format]), [
      ["vda", "/var/lib/libvirt/images/web", "qcow2"],
      ["vdb", "/var/lib/libvirt/images/web-data", "qcow2"],
    ]);
    assert.equal(xml.interfaces.length, 1);
    assert.equal(xml.interfaces[0].network, "basic-net");
    assert.match(xml.interfaces[0].mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    assert.equal(h.fake.domains.get("web")!.state, "running");
    assert.equal(dom.status.interfaces?.[0].mac, xml.interfaces[0].mac);

    // The box: shortcut made an owned overlay Volume named after the Domain.
    const overlay = await mustGet<Volume>(h, "Volume", "web");
    assert.deepEqual(overlay.metadata.ownerReferences, [{
      kind: "Domain",
      name: "web",
      uid: dom.metadata.uid,
      controller: true,
    }]);
    assert.equal(overlay.spec.backingBox, "tiny");
    assert.equal(h.fake.volume("default", "web")!.backingStore?.path, "/var/lib/libvirt/images/box-tiny");
  });
});

Deno.test("domainReconciler: a second pass over converged objects makes no libvirt change", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    const mark = h.fake.mark();
    const head = await h.store.head();
    for (const [kind, name] of ALL) await passOk(h, kind, name);
    for (const [kind, name] of ALL) await passOk(h, kind, name);
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(await h.store.head(), head, "and no status write");
  });
});

Deno.test("domainReconciler reports the DHCP lease of a running domain's NIC", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    const mac = domXml(h, false).interfaces[0].mac;
    h.fake.setLeases("basic-net", [{ mac, ip: "10.123.0.77", hostname: "web" }]);
    await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(dom.status.ip, "10.123.0.77");
    assert.deepEqual(dom.status.interfaces?.[0].ips, [{ address: "10.123.0.77", source: "lease" }]);
  });
});

Deno.test("domainReconciler: a memory change on a running domain redefines it for the next boot and sets RestartRequired", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    const uuid = h.fake.domains.get("web")!.uuid;
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.memory = 512);
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["define"], "no stop, start or reboot");
    assert.equal(h.fake.domains.get("web")!.uuid, uuid, "redefined under the same uuid");
    assert.equal(domXml(h, true).memoryMiB, 512, "the next boot gets the new memory");
    assert.equal(domXml(h, false).memoryMiB, 256, "the running guest keeps its memory");
    let dom = await mustGet<Domain>(h, "Domain", "web");
    const restart = getCondition(dom.status, "RestartRequired");
    assert.equal(restart?.status, "True");
    assert.match(
      restart!.message,
      /^spec\.memory takes effect at the next boot \(lv reload web, or lv apply --restart\)$/,
    );
    assert.equal(ready(dom)?.status, "True");
    assert.equal(dom.status.observedGeneration, dom.metadata.generation);

    // Another pass: nothing to do, and the condition stays (the live XML still differs).
    const again = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(again), []);
    assert.equal(
      getCondition((await mustGet<Domain>(h, "Domain", "web")).status, "RestartRequired")?.status,
      "True",
    );

    // Stopping and starting applies it and clears the condition.
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = "Stopped");
    await converge(h, DOM);
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = "Running");
    await converge(h, DOM);
    assert.equal(domXml(h, false).memoryMiB, 512);
    dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(getCondition(dom.status, "RestartRequired"), undefined);
  });
});

Deno.test("domainReconciler: a change to a stopped domain is just redefined, no RestartRequired", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = "Stopped");
    await converge(h, DOM);
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.cpus = 2);
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["define"]);
    assert.equal(domXml(h, true).vcpus, 2);
    assert.equal(
      getCondition((await mustGet<Domain>(h, "Domain", "web")).status, "RestartRequired"),
      undefined,
    );
  });
});

Deno.test("domainReconciler moves between Running, Paused and Stopped with one libvirt call each", async (t) => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    const steps: [DomainState, string[], string, string][] = [
      ["Paused", ["suspend"], "paused", "Paused"],
      ["Running", ["resume"], "running", "Running"],
      ["Stopped", ["destroy"], "shut off", "Stopped"], // no guest OS to ask (communicator none): power off
      ["Running", ["start"], "running", "Running"],
      ["Stopped", ["destroy"], "shut off", "Stopped"],
      ["Paused", ["start"], "paused", "Paused"], // started paused
      ["Paused", [], "paused", "Paused"],
    ];
    for (const [want, calls, libvirtState, phase] of steps) {
      await t.step(`${want}: ${calls.join(", ") || "nothing to do"}`, async () => {
        await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = want);
        const mark = h.fake.mark();
        await converge(h, DOM);
        assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), calls);
        assert.equal(h.fake.domains.get("web")!.state, libvirtState);
        const dom = await mustGet<Domain>(h, "Domain", "web");
        assert.equal(dom.status.phase, phase);
        assert.equal(ready(dom)?.status, "True");
      });
    }
    await t.step("a start --paused used the flag", () => {
      assert.deepEqual(h.fake.callsOf("start").at(-1), ["start", "web", "--paused"]);
    });
  });
});

Deno.test("domainReconciler stops a guest OS with ACPI first and powers it off after the grace period", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    h.fake.seed(["start", "web"]); // someone started it by hand; the guest ignores ACPI
    h.fake.acpi = "ignore";
    const mark = h.fake.mark();
    const first = await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(mark), [["shutdown", "web"]]);
    assert.ok(first?.requeueAfterMs, "it looks again");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(dom.status.shutdownRequestedAt, h.clock.now().toISOString());
    assert.equal(ready(dom)?.status, "False");

    h.clock.advance(30_000);
    const mid = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(mid), [], "ACPI is asked once, then the guest gets its time");

    h.clock.advance(31_000);
    const late = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(late), [["destroy", "web"]]);
    const after = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(after.status.phase, "Stopped");
    assert.equal(after.status.shutdownRequestedAt, undefined);
    assert.equal(ready(after)?.status, "True");
  }, (d) => {
    d.spec.communicator = "ssh";
    d.spec.state = "Stopped";
  });
});

Deno.test("domainReconciler: a domain that pauses with 'internal error' right after start gets GuestPaused and is not resumed", async () => {
  await withBasic(async (h) => {
    h.fake.afterStart("web", "paused", "internal error");
    await converge(h, ALL.filter(([k]) => k !== "Domain")); // everything but the domain
    await pass(h, "Domain", "web"); // creates the overlay volume, then waits for it
    await converge(h, [["Volume", "web"]]);
    await passOk(h, "Domain", "web"); // defines and starts: the guest pauses at once
    await passOk(h, "Domain", "web"); // looks again
    const mark = h.fake.mark();
    await passOk(h, "Domain", "web");
    await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(mark), [], "never resumed, never restarted");
    assert.equal(h.fake.callsOf("resume").length, 0);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "False");
    assert.equal(ready(dom)?.reason, "GuestPaused");
    assert.match(ready(dom)!.message, /internal error/);
    assert.equal(dom.status.phase, "Failed");
    const events = await h.store.events(key("Domain", "web"));
    assert.ok(events.some((e) => e.reason === "GuestPaused" && e.type === "Warning"));
  });
});

Deno.test("domainReconciler starts a guest that crashed again (drift healing), once", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    h.fake.setDomainState("web", "shut off", "crashed");
    await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(dom.status.state, "running");
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(h.fake.mutations(mark), []);
    assert.equal(h.fake.callsOf("start").length, 2);
  });
});

Deno.test("domainReconciler: a user's pause (reason user) is resumed when the spec says Running", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    h.fake.seed(["suspend", "web"]);
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(h.fake.mutations(mark), [["resume", "web"]]);
  });
});

Deno.test("domainReconciler waits for its volumes and networks before defining anything", async () => {
  await withBasic(async (h) => {
    const r = await pass(h, "Domain", "web");
    assert.ok(r.error instanceof WaitingError, String(r.error));
    assert.match(r.error.reason, /^WaitingFor(Volume|Network)$/);
    assert.equal(h.fake.callsOf("define").length, 0);
    assert.ok(await h.store.get(key("Volume", "web")), "the owned overlay is created right away");
  });
});

Deno.test("domainReconciler: deletion powers off and undefines the domain, then removes the finalizer", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    await h.store.delete(key("Domain", "web"));
    const mark = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["destroy", "undefine"]);
    assert.equal(h.fake.domains.has("web"), false);
    assert.equal(await h.store.get(key("Domain", "web")), undefined);
  });
});

Deno.test("domainReconciler: deletion counts a domain already gone as done", async (t) => {
  await t.step("undefined by hand before the pass", async () => {
    await withBasic(async (h) => {
      await converge(h, ALL);
      h.fake.seed(["destroy", "web"]);
      h.fake.seed(["undefine", "web"]);
      await h.store.delete(key("Domain", "web"));
      const mark = h.fake.mark();
      await passOk(h, "Domain", "web");
      assert.deepEqual(h.fake.mutations(mark), []);
      assert.equal(await h.store.get(key("Domain", "web")), undefined);
    });
  });
  await t.step({
    name: "gone between lv's look and its destroy",
    // Guards Libvirt.domDestroy(): virsh reports a domain that vanished only as "error: failed to get domain
    // 'web'" (it resets libvirt's "Domain not found" while trying id, uuid and name), and destroy must count
    // that as done (VirshError.notFound), as it does "not running", so the deletion completes.

    fn: async () => {
      await withBasic(async (h) => {
        await converge(h, ALL);
        await h.store.delete(key("Domain", "web"));
        h.fake.beforeCall = (args) => {
          if (args[0] === "destroy" && h.fake.domains.has("web")) {
            h.fake.seed(["destroy", "web"]);
            h.fake.seed(["undefine", "web"]);
          }
        };
        await passOk(h, "Domain", "web");
        assert.equal(await h.store.get(key("Domain", "web")), undefined);
      });
    },
  });
  await t.step("already shut off", async () => {
    await withBasic(async (h) => {
      await converge(h, ALL);
      h.fake.seed(["destroy", "web"]);
      await h.store.delete(key("Domain", "web"));
      await passOk(h, "Domain", "web");
      assert.equal(h.fake.domains.has("web"), false);
    });
  });
});

Deno.test("domainReconciler: the box: overlay Volume is garbage-collected after the Domain is deleted", async () => {
  await withBasic(async (h) => {
    await runManagerUntil(h, () => allReady(h), { timeoutMs: 8000 });
    assert.ok(h.fake.volume("default", "web"));
    await h.store.delete(key("Domain", "web"));
    await runManagerUntil(
      h,
      async () => !(await h.store.get(key("Volume", "web"))) && !(await h.store.get(key("Domain", "web"))),
      { timeoutMs: 8000 },
    );
    assert.equal(h.fake.domains.has("web"), false);
    assert.equal(h.fake.volume("default", "web"), undefined, "the overlay is gone from the pool");
    assert.ok(h.fake.volume("default", "web-data"), "a Volume the Domain only used stays");
    assert.ok(h.fake.volume("default", "box-tiny"), "the Box stays");
    assert.ok(await h.store.get(key("Volume", "web-data")));
    const events = await h.store.events(key("Volume", "web"));
    assert.ok(events.some((e) => e.reason === "GarbageCollected"));
    // The domain was undefined before its overlay was deleted.
    const order = h.fake.mutations().map((c) => c[0] === "vol-delete" ? `vol-delete ${c[3]}` : c[0]);
    assert.ok(order.indexOf("undefine") < order.indexOf("vol-delete web"), order.join(", "));
  });
});

Deno.test("domainReconciler: a same-named domain lv did not create gets NameConflict and is never modified or deleted", async () => {
  await withBasic(async (h) => {
    const foreign = structuredClone(basic().find((o) => o.kind === "Domain")!) as Domain;
    foreign.metadata.uid = "";
    const xml = domainXml(foreign, { driver: "qemu", disks: [], interfaces: [] })
      .replace(/<metadata>[\s\S]*<\/metadata>\n/, "");
    h.fake.seed(["define", "/dev/stdin"], xml);
    h.fake.seed(["start", "web"]);
    const before = h.fake.domainXml("web", { inactive: true });
    await runManagerUntil(
      h,
      async () => ready(await h.store.get(key("Domain", "web")))?.reason === "NameConflict",
      {
        timeoutMs: 8000,
      },
    );
    assert.match(ready(await h.store.get(key("Domain", "web")))!.message, /lv did not create/);
    const domainCalls = () =>
      h.fake.mutations().filter((c) =>
        ["define", "start", "shutdown", "destroy", "suspend", "resume", "reboot", "undefine"].includes(c[0])
      );
    assert.deepEqual(domainCalls(), []);

    await h.store.delete(key("Domain", "web"));
    await runManagerUntil(h, async () => !(await h.store.get(key("Domain", "web"))), { timeoutMs: 8000 });
    assert.deepEqual(domainCalls(), []);
    assert.equal(h.fake.domainXml("web", { inactive: true }), before);
    assert.equal(h.fake.domains.get("web")!.state, "running");
  });
});

Deno.test("networkReconciler: a network a Domain uses is not deleted until the Domain is gone", async () => {
  await withBasic(async (h) => {
    await converge(h, ALL);
    await h.store.delete(key("Network", "basic-net"));
    const r = await pass(h, "Network", "basic-net");
    assert.ok(r.error instanceof WaitingError);
    assert.equal(r.error.reason, "InUse");
    assert.equal(h.fake.networks.get("basic-net")!.active, true);
    await h.store.delete(key("Domain", "web"));
    await passOk(h, "Domain", "web");
    await passOk(h, "Network", "basic-net");
    assert.equal(h.fake.networks.has("basic-net"), false);
    assert.equal((await h.store.list("Network")).length, 0);
    assert.equal(await h.store.get(key("Network", "basic-net")) as Network | undefined, undefined);
  });
});

Deno.test("domainReconciler: a domain that stops right after start gets GuestDied with libvirt's reason", async () => {
  await withBasic(async (h) => {
    h.fake.afterStart("web", "shut off", "failed");
    await converge(h, ALL.filter(([k]) => k !== "Domain"));
    await pass(h, "Domain", "web");
    await converge(h, [["Volume", "web"]]);
    await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestDied");
    assert.match(ready(dom)!.message, /stopped right after start \(shut off, failed\)/);
    assert.equal(dom.status.phase, "Failed");
  });
});

Deno.test("domainReconciler: KVM's 'paused (unknown)' (QEMU internal-error) is GuestPaused, never resumed", async () => {
  await withBasic(async (h) => {
    // What a stock guest does on these machines' KVM (measured: paused (unknown); QMP status internal-error).
    h.fake.afterStart("web", "paused", "unknown");
    await converge(h, ALL.filter(([k]) => k !== "Domain"));
    await pass(h, "Domain", "web");
    await converge(h, [["Volume", "web"]]);
    await passOk(h, "Domain", "web");
    await passOk(h, "Domain", "web");
    assert.equal(h.fake.callsOf("resume").length, 0);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestPaused");
    assert.match(ready(dom)!.message, /paused by itself \(unknown; QEMU status internal-error\)/);
  });
});
