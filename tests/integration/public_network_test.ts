/**
 * A public (macvtap) interface on a veth inside the lab's namespace standing in for the host's NIC, an isolated
 * and a routed network, and lv doctor against the lab's libvirtd.
 */
import assert from "node:assert/strict";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { Lv, requireLab, run, virsh } from "./helpers.ts";

const MANIFEST = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata:
  name: quiet
spec:
  mode: isolated
  ipv4:
    address: 10.127.0.1
---
apiVersion: lv.dev/v1alpha1
kind: Network
metadata:
  name: routed
spec:
  mode: route
  ipv4:
    address: 10.128.0.1
  dhcp:
    enabled: false
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: pub
spec:
  driver: qemu
  communicator: none
  memory: 128
  interfaces:
    - dev: lvpub0
      mode: bridge
      mac: "52:54:00:12:34:56"
    - network: quiet
    - network: routed
`;

Deno.test("macvtap public interface, isolated and routed networks", async () => {
  requireLab();
  const lv = new Lv();
  const file = `${lv.home}/pub.yaml`;
  Deno.writeTextFileSync(file, MANIFEST);
  const ip = async (...args: string[]) => {
    const r = await run("ip", args);
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  };
  await ip("link", "add", "lvpub0", "type", "veth", "peer", "name", "lvpub1");
  try {
    await ip("link", "set", "lvpub0", "up");
    await ip("link", "set", "lvpub1", "up");
    await lv.ok(["apply", "-f", file, "--timeout=60s"]);
    const dom = parseDomainXml(await virsh("dumpxml", "pub"));
    assert.deepEqual(
      dom.interfaces.map((i) => [i.type, i.dev ?? i.network, i.mode ?? ""]),
      [["direct", "lvpub0", "bridge"], ["network", "quiet", ""], ["network", "routed", ""]],
    );
    assert.equal(dom.interfaces[0].mac, "52:54:00:12:34:56");
    assert.doesNotMatch(await virsh("net-dumpxml", "quiet"), /<forward/);
    assert.match(await virsh("net-dumpxml", "routed"), /<forward mode=['"]route['"]/);
    assert.doesNotMatch(await virsh("net-dumpxml", "routed"), /<dhcp>/);
    assert.equal((await virsh("domstate", "pub")).trim(), "running");
    await lv.ok(["delete", "-f", file, "--timeout=60s"]);
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=60s"]);
    await ip("link", "del", "lvpub0").catch(() => {});
    lv.cleanup();
  }
});

Deno.test("lv doctor checks the lab's host: libvirtd reachable, no usable KVM, fixes printed", async () => {
  requireLab();
  const lv = new Lv();
  try {
    const r = await lv.ok(["doctor"]);
    assert.match(r.stdout, /^CHECK\s+STATUS\s+DETAIL\n/);
    assert.match(r.stdout, /^virsh\s+ok\s+found on PATH$/m);
    assert.match(r.stdout, /^libvirtd\s+ok\s+qemu:\/\/\/system: /m);
    // The lab hides /dev/kvm (it cannot run guests on these machines): a warning with the fix.
    assert.match(r.stdout, /^kvm\s+warn\s+libvirt does not offer kvm on this host$/m);
    assert.match(r.stdout, /kvm: use driver: qemu/);
    assert.match(r.stdout, /^store\s+ok\s+.*store\.db mode 600 \(\$LV_HOME\)$/m);
    const v = await lv.ok(["version"]);
    assert.match(
      v.stdout,
      /^lv \d+\.\d+\.\d+ \(deno 2\.9\.\d+, x86_64-unknown-linux-gnu\)\nlibvirt qemu:\/\/\/system: /,
    );
  } finally {
    lv.cleanup();
  }
});
