import assert from "node:assert/strict";
import { getCondition } from "../../src/api/conditions.ts";
import type { Domain, DomainSpec } from "../../src/api/types.ts";
import { TerminalError, WaitingError } from "../../src/controller/context.ts";
import { generatedMac } from "../../src/controller/domain_interfaces.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import {
  basicExample,
  converge,
  createAll,
  editSpec,
  type Harness,
  key,
  mustGet,
  newHarness,
  pass,
} from "./harness.ts";
import type { FakeVirshOptions } from "./fake_virsh.ts";
import { domainResource } from "./xml_fixtures.ts";

async function withDomain(
  spec: Partial<DomainSpec>,
  fn: (h: Harness) => Promise<void>,
  fake: FakeVirshOptions = {},
): Promise<void> {
  const h = await newHarness({ defaultPool: true, fake });
  try {
    const dom = domainResource("web", { driver: "qemu", ...spec });
    dom.metadata.uid = "";
    await createAll(h, [dom]);
    await fn(h);
  } finally {
    await h.close();
  }
}

Deno.test("domainReconciler: an SSH domain without interfaces gets the management interface on default", async () => {
  await withDomain({ state: "Stopped" }, async (h) => {
    const r = await pass(h, "Domain", "web");
    assert.ok(r.error instanceof WaitingError && r.error.reason === "NetworkNotFound", `${r.error}`);
    assert.deepEqual(h.fake.callsOf("define"), [], "nothing defined while the network is missing");
    await h.libvirt.netDefine(
      `<network><name>default</name><ip address='192.168.122.1' prefix='24'/></network>`,
    );
    await h.libvirt.netStart("default");
    await converge(h, [["Domain", "web"]]);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.deepEqual(xml.interfaces.map((i) => [i.type, i.network, i.mac]), [
      ["network", "default", generatedMac(dom.metadata.uid, 0)],
    ]);
    assert.equal(h.fake.mutations().filter((c) => c[0].startsWith("net-")).length, 2, "only the test's own");
  });
});

Deno.test("domainReconciler: on a rootless session the management interface is QEMU's user-mode network", async () => {
  await withDomain({ state: "Stopped" }, async (h) => {
    await converge(h, [["Domain", "web"]]);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    const nics = parseDomainXml(h.fake.domainXml("web", { inactive: true })).interfaces;
    assert.deepEqual(nics.map((i) => [i.type, i.network, i.mac]), [[
      "user",
      undefined,
      generatedMac(dom.metadata.uid, 0),
    ]]);
    const [hostPort, guestPort] = (nics[0].forward ?? "").split("-").map(Number);
    assert.ok(hostPort > 1024 && guestPort === 22, `forward ${nics[0].forward}`);
    assert.deepEqual(h.fake.mutations().filter((c) => c[0].startsWith("net-")), [], "no libvirt network");
    await editSpec(h, "Domain", "web", (d) => (d as Domain).spec.memory = 256);
    await converge(h, [["Domain", "web"]]);
    const again = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.equal(again.memoryMiB, 256, "redefined");
    assert.equal(
      again.interfaces[0].forward,
      nics[0].forward,
      "the same forwarded port after a redefinition",
    );
  }, { uri: "qemu:///session" });
});

Deno.test("domainReconciler: host checks are conditions and nothing is defined", async (t) => {
  const cases: [string, Partial<DomainSpec>, FakeVirshOptions, string][] = [
    ["unknown machine type", { machineType: "virt" }, {}, "UnknownMachineType"],
    ["unknown CPU model", { cpu: { model: "Pentium9" } }, {}, "UnknownCpuModel"],
    ["efi without OVMF", { firmware: "efi" }, { ovmf: false }, "FirmwareNotFound"],
    ["tpm without swtpm", { tpm: { model: "tpm-tis", version: "2.0" } }, { swtpm: false }, "TpmUnavailable"],
    [
      "missing host device",
      { hostDevices: [{ type: "pci", address: "0000:09:00.0" }] },
      {},
      "HostDeviceNotFound",
    ],
    [
      "cdrom path not a file",
      { cdroms: [{ path: "/nonexistent/x.iso", bus: "sata", device: "sda" }] },
      {},
      "CdromNotFound",
    ],
  ];
  for (const [name, spec, fake, reason] of cases) {
    await t.step(name, async () => {
      await withDomain({ communicator: "none", ...spec }, async (h) => {
        const r = await pass(h, "Domain", "web");
        assert.ok(r.error instanceof TerminalError || r.error instanceof WaitingError, `${r.error}`);
        assert.equal((r.error as TerminalError).reason, reason);
        assert.deepEqual(h.fake.callsOf("define"), []);
      }, fake);
    });
  }
});

Deno.test("domainReconciler: machine options, a cdrom and the serial log reach the definition", async () => {
  const iso = await Deno.makeTempFile({ suffix: ".iso" });
  try {
    await withDomain({
      communicator: "none",
      machineType: "q35",
      firmware: "efi",
      cdroms: [{ path: iso, bus: "sata", device: "sda" }],
      graphics: { type: "vnc", listen: "127.0.0.1" },
    }, async (h) => {
      h.fake.files.add(iso); // the host's file, as libvirt sees it
      await converge(h, [["Domain", "web"]]);
      const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
      assert.equal(xml.machine, "pc-q35-7.2");
      assert.equal(xml.firmware, "efi");
      assert.deepEqual(xml.cdroms.map((c) => c.path), [iso]);
      assert.equal(xml.serialLog, `${h.home}/logs/web-serial0.log`);
      assert.ok((await Deno.stat(`${h.home}/logs`)).isDirectory, "lv made the log's directory");
      assert.equal(xml.graphics?.type, "vnc");
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(dom.status.graphics?.type, "vnc");
      const mark = h.fake.mark();
      await converge(h, [["Domain", "web"]]);
      assert.deepEqual(h.fake.mutations(mark), [], "a second pass changes nothing");
    });
  } finally {
    await Deno.remove(iso);
  }
});

/** A vnc domain whose display password is "s3cret-pw" in a file of its own. */
async function withPasswordDomain(fn: (h: Harness, file: string) => Promise<void>): Promise<void> {
  const file = await Deno.makeTempFile();
  await Deno.writeTextFile(file, "s3cret-pw\n");
  try {
    await withDomain({
      communicator: "none",
      graphics: { type: "vnc", listen: "127.0.0.1", passwordFile: file },
    }, (h) => fn(h, file));
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("domainReconciler: the display password is read from its file and kept out of the store", async () => {
  await withPasswordDomain(async (h) => {
    await converge(h, [["Domain", "web"]]);
    const defined = h.fake.callsOf("define");
    assert.equal(defined.length, 1);
    assert.ok(!JSON.stringify(await h.store.list("Domain")).includes("s3cret-pw"), "not in the store");
    assert.match(h.fake.domainXml("web", { inactive: true, securityInfo: true }), /passwd=.s3cret-pw./);
    assert.doesNotMatch(h.fake.domainXml("web", { inactive: true }), /passwd/, "dumpxml hides it");
  });
});

Deno.test("domainReconciler: a new password in the same passwordFile redefines; the secret is in no event or store", async () => {
  await withPasswordDomain(async (h, file) => {
    await converge(h, [["Domain", "web"]]);
    let mark = h.fake.mark();
    await converge(h, [["Domain", "web"]]);
    assert.deepEqual(h.fake.mutations(mark), [], "the same password: nothing to do");

    await Deno.writeTextFile(file, "0ther-pw\n");
    mark = h.fake.mark();
    await converge(h, [["Domain", "web"]]);
    assert.deepEqual(h.fake.mutations(mark).map((c) => c[0]), ["define"], "redefined once");
    assert.match(h.fake.domainXml("web", { inactive: true, securityInfo: true }), /passwd=.0ther-pw./);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(
      getCondition(dom.status, "RestartRequired")?.status,
      "True",
      "it takes effect at the next boot",
    );
    const events = JSON.stringify(await h.store.events(key("Domain", "web")));
    assert.match(events, /redefined: graphics\.password changed/);
    const stored = JSON.stringify(await h.store.list("Domain")) + events;
    for (const secret of ["s3cret-pw", "0ther-pw"]) assert.ok(!stored.includes(secret), `${secret} stored`);

    mark = h.fake.mark();
    await converge(h, [["Domain", "web"]]);
    assert.deepEqual(h.fake.mutations(mark), [], "converged");
  });
});

Deno.test("domainReconciler: on a remote host the serial log is a volume of the domain's pool, deleted with it", async () => {
  await withDomain({ communicator: "none" }, async (h) => {
    await converge(h, [["Domain", "web"]]);
    const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.equal(xml.serialLog, "/var/lib/libvirt/images/web-serial0.log");
    assert.equal(h.fake.volume("default", "web-serial0.log")?.format, "raw");
    const mark = h.fake.mark();
    await converge(h, [["Domain", "web"]]);
    assert.deepEqual(h.fake.mutations(mark), [], "a second pass changes nothing");

    await h.store.delete(key("Domain", "web"));
    await converge(h, [["Domain", "web"]]).catch(() => {});
    assert.equal(
      h.fake.volume("default", "web-serial0.log"),
      undefined,
      "the log volume went with the domain",
    );
  }, { uri: "qemu+ssh://root@hv.example/system" });
});

Deno.test("domainReconciler: disk options io, discard, detectZeroes and serial reach the definition", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    const all = basicExample();
    const dom = all["Domain/web"] as Domain;
    dom.spec.disks = dom.spec.disks.map((d) => ({
      ...d,
      io: "threads",
      discard: "unmap",
      detectZeroes: "unmap",
      serial: "data1",
    }));
    await createAll(h, Object.values(all));
    await converge(h, [["Box", "tiny"], ["Network", "basic-net"], ["Volume", "web-data"], ["Volume", "web"], [
      "Domain",
      "web",
    ]]);
    const disks = parseDomainXml(h.fake.domainXml("web", { inactive: true })).disks;
    const data = disks.find((d) => d.path.endsWith("web-data"));
    assert.deepEqual(
      [data?.io, data?.discard, data?.detectZeroes, data?.serial],
      ["threads", "unmap", "unmap", "data1"],
    );
  } finally {
    await h.close();
  }
});
