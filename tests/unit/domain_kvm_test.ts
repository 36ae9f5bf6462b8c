import assert from "node:assert/strict";
import type { AnyResource, Domain } from "../../src/api/types.ts";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import { VirshError } from "../../src/libvirt/virsh.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { FakeVirsh, UNREACHABLE_STDERR } from "./fake_virsh.ts";
import {
  BASIC_OBJECTS,
  basicExample,
  converge,
  createAll,
  type Harness,
  mustGet,
  newHarness,
} from "./harness.ts";

const ALL = BASIC_OBJECTS;

/** basic.yaml with the Domain's driver left to lv (kvm where the host offers it). */
function basic(): AnyResource[] {
  const all = basicExample();
  const dom = all["Domain/web"] as Domain;
  dom.spec.communicator = "none";
  delete dom.spec.driver;
  return Object.values(all);
}

async function withHarness(kvm: boolean, fn: (h: Harness) => Promise<void>) {
  const h = await newHarness({ defaultPool: true, fake: { kvm } });
  try {
    await createAll(h, basic());
    await fn(h);
  } finally {
    await h.close();
  }
}

Deno.test("domainReconciler: libvirt unreachable while asked about KVM is unreachable, never 'no KVM' (driver qemu)", async () => {
  await withHarness(true, async (h) => {
    h.fake.failNext("domcapabilities", UNREACHABLE_STDERR);
    await converge(h, ALL);
    const defines = h.fake.callsOf("define");
    assert.equal(defines.length, 1, "defined once, after libvirt answered");
    assert.equal(parseDomainXml(h.fake.domainXml("web", { inactive: true })).type, "kvm");
    assert.equal((await mustGet<Domain>(h, "Domain", "web")).status.driver, "kvm");
    assert.equal(h.fake.callsOf("domcapabilities").length, 2, "asked again after the failure");
  });
});

Deno.test("domainReconciler: a host without KVM gets driver qemu, asked once per connection", async () => {
  await withHarness(false, async (h) => {
    await converge(h, ALL);
    assert.equal(parseDomainXml(h.fake.domainXml("web", { inactive: true })).type, "qemu");
    assert.equal((await mustGet<Domain>(h, "Domain", "web")).status.driver, "qemu");
    assert.equal(h.fake.callsOf("domcapabilities").length, 1);
  });
});

Deno.test("Libvirt.domainCapabilities: undefined only when libvirt says the virt type is not offered", async () => {
  const fake = new FakeVirsh({ kvm: false });
  const lv = new Libvirt(fake);
  assert.equal(await lv.domainCapabilities("kvm"), undefined);
  assert.match((await lv.domainCapabilities("qemu"))!, /<domainCapabilities>/);
  fake.failNext("domcapabilities", UNREACHABLE_STDERR);
  await assert.rejects(() => lv.domainCapabilities("kvm"), (e) => e instanceof VirshError && e.unreachable);
  fake.failNext(
    "domcapabilities",
    "failed to get emulator capabilities\nauthentication failed: access denied",
  );
  await assert.rejects(() => lv.domainCapabilities("kvm"), VirshError);
});

Deno.test("Libvirt.kvmOffered: asked once per connection; a failure is not remembered", async () => {
  const fake = new FakeVirsh({ kvm: true });
  const lv = new Libvirt(fake);
  fake.failNext("domcapabilities", UNREACHABLE_STDERR);
  await assert.rejects(() => lv.kvmOffered(), VirshError);
  assert.equal(await lv.kvmOffered(), true);
  assert.equal(await lv.kvmOffered(), true);
  assert.equal(fake.callsOf("domcapabilities").length, 2);
  assert.equal(await new Libvirt(new FakeVirsh({ kvm: false })).kvmOffered(), false, "per connection");
});
