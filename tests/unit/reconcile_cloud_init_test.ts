/** The Domain controller's cloud-init seed (spec.cloudInit) on the fake libvirt: made, attached, replaced, deleted. */
import assert from "node:assert/strict";
import { getCondition } from "../../src/api/conditions.ts";
import type { AnyResource, Domain, Kind } from "../../src/api/types.ts";
import { hostKeyPath } from "../../src/guest/cloud_init/seed_keys.ts";
import { insertedKeyPath } from "../../src/guest/key_files.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import {
  basicExample,
  converge,
  createAll,
  editSpec,
  type Harness,
  mustGet,
  newHarness,
  pass,
} from "./harness.ts";
import { TerminalError } from "../../src/controller/context.ts";
import { seedDevice } from "../../src/controller/domain/cloud_init_seed.ts";
import { domainResource } from "./xml_fixtures.ts";

const ALL: [Kind, string][] = [["Box", "tiny"], ["Network", "basic-net"], ["Volume", "web-data"], [
  "Domain",
  "web",
], ["Volume", "web"]];

function cloudBasic(): AnyResource[] {
  const all = basicExample();
  const dom = all["Domain/web"] as Domain;
  dom.spec.communicator = "none";
  dom.spec.cloudInit = { userData: { runcmd: ["true"] } };
  return Object.values(all);
}

async function withCloud(fn: (h: Harness) => Promise<void>) {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, cloudBasic());
    await fn(h);
  } finally {
    await h.close();
  }
}

const seeds = (h: Harness) =>
  [...h.fake.pools.get("default")!.volumes.keys()].filter((n) => n.includes("cidata"));

Deno.test("a Domain with cloudInit gets a seed volume it attaches as a read-only CD-ROM, recorded in status", async () => {
  await withCloud(async (h) => {
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    const [seed] = seeds(h);
    assert.match(seed, /^web-cidata-[0-9a-f]{12}\.iso$/);
    assert.deepEqual(dom.status.cloudInitSeed, {
      volume: seed,
      instanceId: `iid-${dom.metadata.uid}-${seed.slice(11, 23)}`,
    });
    const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.deepEqual(xml.cdroms, [{
      path: `/var/lib/libvirt/images/${seed}`,
      format: "raw",
      device: "hdc",
      bus: "ide",
    }]);
    assert.equal(h.fake.volume("default", seed)!.uploads.length, 1);
    await Deno.stat(hostKeyPath(h.home, dom));

    const mark = h.fake.mark();
    await converge(h, ALL);
    assert.deepEqual(h.fake.mutations(mark), [], "a second pass changes nothing");
  });
});

Deno.test("on q35 (no IDE) the seed is a virtio-scsi CD-ROM after the user's CD-ROMs, and libvirt takes it", async () => {
  const iso = await Deno.makeTempFile({ suffix: ".iso" });
  const h = await newHarness({ defaultPool: true });
  try {
    const objects = cloudBasic();
    const dom = objects.find((o) => o.kind === "Domain") as Domain;
    dom.spec.machineType = "q35";
    dom.spec.cdroms = [{ path: iso, bus: "sata", device: "sda" }];
    h.fake.addFile(iso);
    await createAll(h, objects);
    await converge(h, ALL);
    const [seed] = seeds(h);
    const xml = parseDomainXml(h.fake.domainXml("web", { inactive: true }));
    assert.deepEqual(xml.cdroms.map((c) => [c.path, c.device, c.bus]), [
      [iso, "sda", "sata"],
      [`/var/lib/libvirt/images/${seed}`, "sdb", "scsi"],
    ]);
    const mark = h.fake.mark();
    await converge(h, ALL);
    assert.deepEqual(h.fake.mutations(mark), [], "a second pass changes nothing");
  } finally {
    await h.close();
    await Deno.remove(iso);
  }
});

Deno.test("seedDevice() is IDE hdc on pc (the next free IDE name when taken) and the next free virtio-scsi name on q35", async (t) => {
  const cases: [string | undefined, string[], string][] = [
    [undefined, [], "ide/hdc"],
    ["pc", ["vda", "hdc"], "ide/hdd"],
    ["pc-i440fx-7.2", ["hda", "hdb", "hdc", "hdd", "sda"], "scsi/sdb"],
    ["q35", ["vda"], "scsi/sda"],
    ["pc-q35-7.2", ["sda", "sdb", "sdd"], "scsi/sdc"],
  ];
  for (const [machine, taken, want] of cases) {
    await t.step(`${machine ?? "(default)"} with ${taken.join(",") || "nothing"} taken: ${want}`, () => {
      const got = seedDevice(machine, taken);
      assert.equal(`${got.bus}/${got.device}`, want);
      assert.equal(got.format, "raw");
    });
  }
});

Deno.test("a diskless Domain with cloudInit on a host without its pool: the pool is made for the seed", async () => {
  const h = await newHarness();
  try {
    const dom = domainResource("solo", { driver: "qemu", communicator: "none", cloudInit: {} });
    await createAll(h, [dom]);
    await converge(h, [["Domain", "solo"]]);
    assert.ok(h.fake.pools.get("default"), "the default pool was created");
    const xml = parseDomainXml(h.fake.domainXml("solo", { inactive: true }));
    assert.match(xml.cdroms[0]?.path ?? "", /\/solo-cidata-[0-9a-f]{12}\.iso$/);
  } finally {
    await h.close();
  }
});

Deno.test("changed user data: a new seed (new instance-id) for the next boot, RestartRequired, the old seed deleted", async () => {
  await withCloud(async (h) => {
    await converge(h, ALL);
    const [first] = seeds(h);
    const before = (await mustGet<Domain>(h, "Domain", "web")).status.cloudInitSeed!;
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.cloudInit = { userData: { runcmd: ["false"] } });
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    const [second] = seeds(h);
    assert.notEqual(second, first);
    assert.notEqual(dom.status.cloudInitSeed!.instanceId, before.instanceId);
    assert.deepEqual(seeds(h), [second], "the old seed volume is gone");
    assert.match(getCondition(dom.status, "RestartRequired")?.message ?? "", /takes effect at the next boot/);
  });
});

Deno.test("a #cloud-config user data file that is not a mapping is a terminal condition with file:line", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, "#cloud-config\nruncmd:\n  - true\n- oops\n");
  const h = await newHarness({ defaultPool: true });
  try {
    const objects = cloudBasic();
    (objects.find((o) => o.kind === "Domain") as Domain).spec.cloudInit = { userData: file };
    await createAll(h, objects);
    await converge(h, ALL).catch(() => {});
    const { error } = await pass(h, "Domain", "web");
    assert.ok(error instanceof TerminalError, String(error));
    assert.equal(error.reason, "InvalidUserData");
    assert.equal(
      error.message,
      `${file}:4:1: spec.cloudInit.userData: invalid YAML in #cloud-config user data: A block sequence may not be used as an implicit map key`,
    );
    assert.deepEqual(seeds(h), []);
  } finally {
    await h.close();
    await Deno.remove(file);
  }
});

Deno.test("deleting the Domain deletes its seed volume and the host key lv made", async () => {
  await withCloud(async (h) => {
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    await h.store.delete({ kind: "Domain", namespace: "default", name: "web" });
    await converge(h, [["Domain", "web"]]).catch(() => {});
    assert.deepEqual(seeds(h), []);
    await assert.rejects(Deno.stat(hostKeyPath(h.home, dom)), Deno.errors.NotFound);
  });
});

Deno.test("user data given as text is the whole seed user-data: lv makes no keys it could not use", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    const objects = cloudBasic();
    const text = "#!/bin/sh\necho hello > /var/tmp/hello\n";
    (objects.find((o) => o.kind === "Domain") as Domain).spec.cloudInit = { userData: text };
    await createAll(h, objects);
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.match(seeds(h)[0], /^web-cidata-[0-9a-f]{12}\.iso$/);
    await assert.rejects(Deno.stat(hostKeyPath(h.home, dom)), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(insertedKeyPath(h.home, dom)), Deno.errors.NotFound);
  } finally {
    await h.close();
  }
});
