/**
 * Changes a running Domain takes without a restart: memory within maxMemory (the balloon), vCPUs added
 * within maxVcpus, an interface's link state; beyond the maximum the change waits for the next boot
 * (RestartRequired naming the fields).
 */
import assert from "node:assert/strict";
import { getCondition } from "../../src/api/conditions.ts";
import { formatProblem } from "../../src/api/problem.ts";
import type { AnyResource, Domain } from "../../src/api/types.ts";
import { validateResource } from "../../src/api/validate.ts";
import { domainXml, parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import {
  BASIC_OBJECTS,
  basicExample,
  converge,
  createAll,
  editSpec,
  type Harness,
  mustGet,
  newHarness,
  passOk,
  ready,
} from "./harness.ts";

const DOM: [["Domain", string]] = [["Domain", "web"]];
const MAC = "52:54:00:00:0a:01";

function basic(edit?: (d: Domain) => void): AnyResource[] {
  const all = basicExample();
  const dom = all["Domain/web"] as Domain;
  dom.spec.communicator = "none";
  dom.spec.interfaces[0].mac = MAC;
  edit?.(dom);
  return Object.values(all);
}

async function withBasic(fn: (h: Harness) => Promise<void>, edit?: (d: Domain) => void) {
  const h = await newHarness({ defaultPool: true });
  try {
    await createAll(h, basic(edit));
    await converge(h, BASIC_OBJECTS);
    await fn(h);
  } finally {
    await h.close();
  }
}

const domXml = (h: Harness, inactive: boolean) => parseDomainXml(h.fake.domainXml("web", { inactive }));
const mutations = (h: Harness, mark: number) => h.fake.mutations(mark).map((c) => c.join(" "));

async function restartRequired(h: Harness) {
  return getCondition((await mustGet<Domain>(h, "Domain", "web")).status, "RestartRequired");
}

const domain = (spec: string) => ({
  apiVersion: "lv.dev/v1alpha1",
  kind: "Domain",
  metadata: { name: "w" },
  spec: JSON.parse(spec),
});

Deno.test("validateResource() checks maxMemory, maxVcpus and linkState against what they bound", async (t) => {
  const cases: [string, string[]][] = [
    [`{"memory": 256, "maxMemory": "1Gi", "cpus": 1, "maxVcpus": 4}`, []],
    [`{"memory": 512, "maxMemory": 256}`, [
      "spec.maxMemory: must be at least memory (512 MiB); got 256 (raise maxMemory, or leave it out to use memory)",
    ]],
    [`{"cpus": 4, "maxVcpus": 2}`, [
      "spec.maxVcpus: must be at least cpus (4); got 2 (raise maxVcpus, or leave it out to use cpus)",
    ]],
    [`{"cpus": 2, "maxVcpus": 4, "cpu": {"sockets": 1, "cores": 2}}`, [
      "spec.cpu.sockets: sockets × cores × threads (1 × 2 × 1 = 2) must equal maxVcpus (4)",
    ]],
    [`{"interfaces": [{"network": "n", "linkState": "down"}]}`, []],
    [`{"interfaces": [{"network": "n", "linkState": "off"}]}`, [
      'spec.interfaces[0].linkState: must be one of up, down; got "off"',
    ]],
  ];
  for (const [spec, want] of cases) {
    await t.step(spec, () => {
      const got = validateResource(domain(spec)).problems.map(formatProblem);
      assert.deepEqual(got, want);
    });
  }
});

Deno.test("domainXml() writes maxMemory as <memory>, memory as <currentMemory>, maxVcpus with current, link state", () => {
  const [dom] = basic((d) => {
    d.spec.maxMemory = 1024;
    d.spec.maxVcpus = 4;
    d.spec.cpus = 2;
    d.spec.interfaces[0].linkState = "down";
  }).filter((o) => o.kind === "Domain") as Domain[];
  const xml = domainXml(dom, {
    driver: "qemu",
    disks: [],
    interfaces: [{ network: "n", mac: MAC, model: "virtio", linkState: "down" }],
  });
  assert.match(xml, /<memory unit="MiB">1024<\/memory>\s*<currentMemory unit="MiB">256<\/currentMemory>/);
  assert.match(xml, /<vcpu placement="static" current="2">4<\/vcpu>/);
  assert.match(xml, /<link state="down"\/>/);
  const state = parseDomainXml(xml);
  assert.deepEqual([state.memoryMiB, state.currentMemoryMiB, state.vcpus, state.maxVcpus], [1024, 256, 2, 4]);
  assert.equal(state.interfaces[0].linkState, "down");
});

Deno.test("domainReconciler: memory within maxMemory on a running domain is set live through the balloon", async () => {
  await withBasic(async (h) => {
    const id = h.fake.domains.get("web")!.id;
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.memory = 384);
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(mutations(h, mark), ["define /dev/stdin", "setmem web 384M --live --config"]);
    assert.equal(h.fake.domains.get("web")!.id, id, "not restarted");
    assert.equal(h.fake.domains.get("web")!.balloonMiB, 384);
    assert.equal(domXml(h, true).currentMemoryMiB, 384);
    assert.equal(await restartRequired(h), undefined);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "True");

    const again = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(mutations(h, again), [], "a converged domain: no libvirt change");
  }, (d) => d.spec.maxMemory = 512);
});

Deno.test("domainReconciler: memory beyond maxMemory waits for the next boot, naming the fields", async () => {
  await withBasic(async (h) => {
    await editSpec<Domain>(h, "Domain", "web", (d) => {
      d.spec.memory = 768;
      d.spec.maxMemory = 1024;
    });
    const mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(mutations(h, mark), ["define /dev/stdin"], "no setmem beyond the running maximum");
    const restart = await restartRequired(h);
    assert.equal(restart?.status, "True");
    assert.match(restart!.message, /^spec\.maxMemory, spec\.memory take effect at the next boot/);
    assert.equal(domXml(h, false).memoryMiB, 512, "the running domain keeps its maximum");
  }, (d) => d.spec.maxMemory = 512);
});

Deno.test("domainReconciler: vCPUs added within maxVcpus are hot-plugged; removing them waits for the next boot", async () => {
  await withBasic(async (h) => {
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.cpus = 2);
    let mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(mutations(h, mark), ["define /dev/stdin", "setvcpus web 2 --live --config"]);
    assert.equal(domXml(h, false).vcpus, 2);
    assert.equal(await restartRequired(h), undefined);

    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.cpus = 1);
    mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(
      mutations(h, mark),
      ["define /dev/stdin"],
      "QEMU cannot unplug a vCPU here: no live attempt",
    );
    assert.match((await restartRequired(h))!.message, /^spec\.cpus takes effect at the next boot/);
    assert.equal(domXml(h, false).vcpus, 2);
  }, (d) => d.spec.maxVcpus = 4);
});

Deno.test("domainReconciler: an interface's link state is set live and kept in the definition", async () => {
  await withBasic(async (h) => {
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.interfaces[0].linkState = "down");
    let mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(mutations(h, mark), ["define /dev/stdin", `domif-setlink web ${MAC} down`]);
    assert.equal(domXml(h, false).interfaces[0].linkState, "down");
    assert.equal(domXml(h, true).interfaces[0].linkState, "down");
    assert.equal(await restartRequired(h), undefined);

    await editSpec<Domain>(h, "Domain", "web", (d) => delete d.spec.interfaces[0].linkState);
    mark = h.fake.mark();
    await converge(h, DOM);
    assert.deepEqual(mutations(h, mark), ["define /dev/stdin", `domif-setlink web ${MAC} up`]);
    assert.equal(domXml(h, false).interfaces[0].linkState, "up");
  });
});

Deno.test("domainReconciler: a hot-plug libvirt refuses waits for the next boot, with a Warning event", async () => {
  await withBasic(async (h) => {
    h.fake.failNext("setvcpus", "internal error: unable to execute QEMU command 'device_add': no free slot");
    await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.cpus = 2);
    await converge(h, DOM);
    assert.match((await restartRequired(h))!.message, /^spec\.cpus takes effect at the next boot/);
    assert.equal(domXml(h, false).vcpus, 1);
    assert.equal(domXml(h, true).vcpus, 2, "the definition has it for the next boot");
    const events = await h.store.events({ kind: "Domain", namespace: "default", name: "web" });
    assert.ok(
      events.some((e) =>
        e.type === "Warning" && e.reason === "LiveUpdateRefused" &&
        /no free slot; at the next boot/.test(e.message)
      ),
      JSON.stringify(events),
    );
    const mark = h.fake.mark();
    await passOk(h, "Domain", "web");
    assert.deepEqual(mutations(h, mark), [], "not tried again every pass");
  }, (d) => d.spec.maxVcpus = 2);
});
