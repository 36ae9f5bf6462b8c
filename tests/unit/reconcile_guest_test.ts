/**
 * The Domain controller with a guest to talk to: basic.yaml's Domain with communicator ssh, its guest the
 * fake guest (reached at its DHCP lease). What the guest steps leave in status and conditions.
 */
import assert from "node:assert/strict";
import type { GuestStatus } from "../../src/api/guest_status.ts";
import { PROVISION_ANNOTATION } from "../../src/api/requests.ts";
import type { AnyResource, Domain, Kind } from "../../src/api/types.ts";
import { generateKeyPair, insertedKeyPath, publicKeyBlob } from "../../src/guest/key_files.ts";
import { writeStatus } from "../../src/controller/object_ops.ts";
import { GUEST_POLL_MS, SSH_RETRY } from "../../src/controller/guest.ts";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { FakeGuest } from "./fake_guest.ts";
import { attachGuest } from "./fake_guest_login.ts";
import { ansible, shell } from "./guest_fixture.ts";
import { FakeForwarders } from "./fake_forwarders.ts";
import { getCondition } from "../../src/api/conditions.ts";
import { ForwarderStartError } from "../../src/guest/forwarder/forwarder_processes.ts";
import { readRecord } from "../../src/guest/forwarder/forwarder_supervisor.ts";
import {
  basicExample,
  converge,
  createAll,
  editSpec,
  EXAMPLES_DIR,
  type Harness,
  key,
  mustGet,
  newHarness,
  passOk,
  ready,
} from "./harness.ts";

const ALL: [Kind, string][] = [["Box", "tiny"], ["Network", "basic-net"], ["Volume", "web-data"], [
  "Domain",
  "web",
], [
  "Volume",
  "web",
]];
const ADDRESS = "10.123.0.50";

/**
 * Converges basic.yaml with an SSH guest; its lease handed out once the domain is defined. The box's key is
 * spec.ssh.privateKey, or with `boxKey` the Box's own (status.privateKey), which insertKey replaces.
 */
async function withGuest(
  fn: (h: Harness, guest: FakeGuest) => Promise<void>,
  edit?: (d: Domain) => void,
  options: { boxKey?: boolean; forwarders?: FakeForwarders } = {},
) {
  const h = await newHarness({ defaultPool: true });
  const guest = new FakeGuest();
  if (options.forwarders) h.ctx.forwarders = options.forwarders;
  try {
    await attachGuest(h, guest);
    const all = basicExample();
    const dom = all["Domain/web"] as Domain;
    dom.spec.communicator = "ssh";
    if (!options.boxKey) dom.spec.ssh.privateKey = `${h.home}/box_key`;
    edit?.(dom);
    await createAll(h, Object.values(all) as AnyResource[]);
    if (options.boxKey) {
      await converge(h, [["Box", "tiny"]]);
      const box = await mustGet(h, "Box", "tiny");
      assert.ok(await writeStatus(h.store, box, (s) => s.privateKey = `${h.home}/box_key`));
    }
    await converge(h, ALL);
    const mac = parseDomainXml(h.fake.domainXml("web", { inactive: false })).interfaces[0].mac;
    h.fake.setLeases("basic-net", [{ mac, ip: ADDRESS }]);
    await fn(h, guest);
  } finally {
    await h.close();
  }
}

const guestOf = (dom: Domain) => dom.status.guest as GuestStatus;

/** A run: once and a run: always provisioner, each logging its run in /tmp/ran. */
function onceAndAlways(d: Domain): void {
  d.spec.provision = [
    shell({ inline: "echo once >> /tmp/ran" }),
    shell({ inline: "echo always >> /tmp/ran", run: "always" }),
  ];
}

Deno.test("a Domain with an SSH guest: WaitingForAddress, then hostname and provisioners, Ready with the host key pinned", async () => {
  await withGuest(async (h, guest) => {
    const waiting = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(waiting)?.reason, "WaitingForAddress");
    assert.match(
      ready(waiting)!.message,
      /^no IP address yet for 52:54:00:\S+ on network basic-net; tried net-dhcp-leases/,
    );
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
    assert.equal(dom.status.sshHostKey, guest.hostKey);
    assert.equal(guest.hostname, "web");
    assert.equal(guest.read("/tmp/ran"), "once\nalways\n");
    assert.equal(guestOf(dom).provisioned, true);
    assert.equal(guestOf(dom).address, ADDRESS);
    const reasons = (await h.store.events(key("Domain", "web"))).map((e) => e.reason);
    for (const r of ["SshReady", "Hostname", "Provisioning", "Provisioned"]) {
      assert.ok(reasons.includes(r), r);
    }

    const logins = guest.logins.length;
    await converge(h, ALL);
    assert.equal(guest.logins.length, logins, "nothing pending: no SSH connection at all");
  }, onceAndAlways);
});

Deno.test("run: always provisioners run again at the next boot, run: once ones again only on lv provision", async () => {
  await withGuest(async (h, guest) => {
    await converge(h, ALL);
    assert.equal(guest.read("/tmp/ran"), "once\nalways\n");
    h.fake.setDomainState("web", "shut off", "destroyed");
    await converge(h, ALL); // started again: a new domain id
    assert.equal(guest.read("/tmp/ran"), "once\nalways\nalways\n");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.notEqual(guestOf(dom).booted, undefined);

    const request = "2030-01-01T00:00:05.000Z";
    const asked = structuredClone(dom);
    asked.metadata.annotations[PROVISION_ANNOTATION] = request;
    await h.store.update(asked);
    await converge(h, ALL);
    assert.equal(guest.read("/tmp/ran"), "once\nalways\nalways\nonce\nalways\n");
    assert.equal(guestOf(await mustGet<Domain>(h, "Domain", "web")).provisionRequest, request);
  }, onceAndAlways);
});

Deno.test("a failing provisioner: Ready=False ProvisionFailed with the exit code and output tail, not rerun", async () => {
  await withGuest(async (h, guest) => {
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "False");
    assert.equal(ready(dom)?.reason, "ProvisionFailed");
    assert.equal(ready(dom)?.message, "provision[0] exited with code 7; last output:\nabout to fail");
    assert.equal(dom.status.phase, "Failed");
    assert.deepEqual(guestOf(dom).failure, { reason: "ProvisionFailed", message: ready(dom)!.message });
    const runs = guest.commands().filter((c) => c.includes("/bin/sh")).length;
    await passOk(h, "Domain", "web");
    assert.equal(
      guest.commands().filter((c) => c.includes("/bin/sh")).length,
      runs,
      "not run again by itself",
    );
    assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.reason, "ProvisionFailed");
  }, (d) => d.spec.provision = [shell({ inline: "echo about to fail\nexit 7" })]);
});

Deno.test("a failing guest step: Ready=False GuestSetupFailed naming it, and tried again", async () => {
  await withGuest(async (h, guest) => {
    guest.users.get("vagrant")!.sudo = "password";
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "GuestSetupFailed");
    assert.match(
      ready(dom)!.message,
      /^hostname: cannot run as root in the guest: exit code 1: sudo: a password is required \(waiting since /,
    );
    guest.users.get("vagrant")!.sudo = "nopasswd";
    await converge(h, ALL);
    assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.status, "True");
  });
});

Deno.test("lv's key cannot be added: GuestSetupFailed saying so, the box's key kept, and it goes in next time", async () => {
  await withGuest(
    async (h, guest) => {
      guest.readOnly.add("/home/vagrant/.ssh");
      await passOk(h, "Domain", "web");
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(ready(dom)?.reason, "GuestSetupFailed");
      assert.match(
        ready(dom)!.message,
        /^cannot install lv's key: cannot write \.ssh\/authorized_keys in the guest: .*Read-only file system \(waiting since/,
      );
      assert.deepEqual(guest.logins, ["vagrant"], "no login tried with a key that is not in");
      guest.readOnly.clear();
      await converge(h, ALL);
      assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.status, "True");
      const keys = guest.read("/home/vagrant/.ssh/authorized_keys")!;
      assert.equal(keys.trim().split("\n").length, 1, `only lv's key is left:\n${keys}`);
      assert.match(keys, / lv web\n$/);
    },
    undefined,
    { boxKey: true },
  );
});

Deno.test("ansible with limit: all waiting for another Domain: Ready=False ProvisionWaiting naming it, not a failure", async () => {
  await withGuest(async (h) => {
    const db = structuredClone(basicExample()["Domain/web"]) as Domain;
    db.metadata.name = "db";
    db.spec.communicator = "ssh";
    db.spec.provision = [ansible({})];
    await createAll(h, [db]);
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "ProvisionWaiting");
    assert.match(
      ready(dom)!.message,
      /^provision\[0\]: waiting for domain\/db to answer on SSH: the inventory of \/srv\/site\.yml \(limit all\) needs them/,
    );
    assert.equal(guestOf(dom).failure, undefined);
  }, (d) => d.spec.provision = [ansible({ limit: "all" })]);
});

Deno.test("a guest presenting another host key than the pinned one: HostKeyChanged, terminal", async () => {
  await withGuest(async (h, guest) => {
    await converge(h, ALL);
    h.fake.setDomainState("web", "shut off", "destroyed");
    guest.hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG90aGVyIGhvc3Qga2V5IG9mIGFub3RoZXIgZ3Vlc3Q=";
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "HostKeyChanged");
    assert.match(
      ready(dom)!.message,
      /^host key of 10\.123\.0\.50 changed: expected SHA256:\S+, got SHA256:/,
    );
    assert.equal(dom.status.phase, "Failed");
  });
});

Deno.test("a guest that does not answer SSH: WaitingForSsh, requeued", async () => {
  await withGuest(async (h, guest) => {
    guest.reachable = false;
    const r = await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "WaitingForSsh");
    assert.match(ready(dom)!.message, /^ssh vagrant@10\.123\.0\.50:22: connect ECONNREFUSED/);
    assert.equal(r?.requeueAfterMs, SSH_RETRY.intervalMs, "the next pass as soon as the next attempt");
    assert.ok(
      guest.connects > 1 && guest.connects <= SSH_RETRY.attempts,
      `${guest.connects} connects: a refused connect is tried again within the pass, a bounded number of times`,
    );
  });
});

Deno.test("a guest whose sshd refuses the login: WaitingForSsh, not tried again within the pass nor soon", async () => {
  await withGuest(async (h, guest) => {
    guest.refuseConnects = 1000;
    guest.refusedWith = "All configured authentication methods failed";
    const r = await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.reason, "WaitingForSsh");
    assert.equal(guest.connects, 1, "each login costs the guest's sshd work");
    assert.equal(r?.requeueAfterMs, GUEST_POLL_MS);
  });
});

Deno.test("connections the guest takes and drops (a port forward before sshd listens): retried, not as often as refusals", async () => {
  await withGuest(async (h, guest) => {
    guest.refuseConnects = 1000;
    guest.refusedWith = "Connection lost before handshake";
    const r = await passOk(h, "Domain", "web");
    assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.reason, "WaitingForSsh");
    const most = Math.ceil(SSH_RETRY.budgetMs / SSH_RETRY.takenIntervalMs) + 1;
    assert.ok(
      guest.connects > 1 && guest.connects <= most,
      `${guest.connects} connects (each may cost sshd a fork)`,
    );
    assert.equal(r?.requeueAfterMs, GUEST_POLL_MS);
  });
});

Deno.test("an sshd that starts listening while lv retries: logged in within the same pass", async () => {
  await withGuest(async (h, guest) => {
    guest.refuseConnects = 3;
    await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
    assert.equal(guest.connects, 4);
  });
});

Deno.test("an sshd that closes after its version line (restarting at first boot): tried again like a refusal", async () => {
  await withGuest(async (h, guest) => {
    guest.refuseConnects = 2;
    guest.refusedWith = "the connection closed before login";
    await passOk(h, "Domain", "web");
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
    assert.equal(guest.connects, 3);
  });
});

Deno.test("a lease not seen yet: WaitingForAddress, looked at again within GUEST_POLL_MS", async () => {
  const h = await newHarness({ defaultPool: true });
  try {
    const all = basicExample();
    (all["Domain/web"] as Domain).spec.communicator = "ssh";
    (all["Domain/web"] as Domain).spec.ssh.privateKey = `${h.home}/box_key`;
    await Deno.writeTextFile(`${h.home}/box_key`, (await generateKeyPair("box")).private, { mode: 0o600 });
    await createAll(h, Object.values(all) as AnyResource[]);
    await converge(h, ALL);
    const r = await passOk(h, "Domain", "web");
    assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.reason, "WaitingForAddress");
    assert.equal(r?.requeueAfterMs, GUEST_POLL_MS);
  } finally {
    await h.close();
  }
});

Deno.test("insertKey: the box's key replaced once by the domain's own; later passes log in with it", async () => {
  await withGuest(
    async (h, guest) => {
      await converge(h, ALL);
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
      const inserted = insertedKeyPath(h.home, dom);
      assert.equal(dom.status.sshKey, inserted);
      const keys = guest.read("/home/vagrant/.ssh/authorized_keys")!.trim().split("\n");
      assert.deepEqual(keys.map((l) => l.split(" ")[1]), [
        await publicKeyBlob(await Deno.readTextFile(inserted)),
      ]);
      const reasons = (await h.store.events(key("Domain", "web"))).map((e) => e.reason);
      assert.equal(reasons.filter((r) => r === "KeyInserted").length, 1);

      h.fake.setDomainState("web", "shut off", "destroyed");
      await converge(h, ALL);
      assert.equal(ready(await mustGet<Domain>(h, "Domain", "web"))?.status, "True");
      assert.equal(
        guest.read("/home/vagrant/.ssh/authorized_keys")!.trim().split("\n").length,
        1,
        "not inserted again",
      );
      const again = (await h.store.events(key("Domain", "web"))).filter((e) => e.reason === "KeyInserted");
      assert.equal(again.length, 1);
    },
    undefined,
    { boxKey: true },
  );
});

Deno.test("a first boot costs two logins and three round trips: facts with lv's key added, key proven then old key removed, one sudo batch", async () => {
  await withGuest(
    async (h, guest) => {
      await converge(h, ALL);
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
      assert.deepEqual(guest.logins, ["vagrant", "vagrant"], "the session, and the login proving lv's key");
      const trips = guest.log.filter((o) => !o.inBatch);
      assert.deepEqual(
        trips.map((o) => o.op),
        ["batch", "batch", "put"],
        trips.map((o) => `${o.op} ${o.argv.join(" | ")}`).join("\n"),
      );
      const sudoBatches = guest.log.filter((o) => o.inBatch && o.argv[0] === "sudo");
      assert.deepEqual(sudoBatches.map((o) => o.argv.join(" ")), ["sudo -n hostname web"], "one sudo batch");
      assert.equal(guest.hostname, "web");
      assert.equal(guestOf(dom).os, "systemd-networkd");
      const reasons = (await h.store.events(key("Domain", "web"))).map((e) => e.reason);
      for (const r of ["SshReady", "KeyInserted", "Hostname"]) assert.ok(reasons.includes(r), r);
    },
    undefined,
    { boxKey: true },
  );
});

Deno.test("the guest's OS family is recorded in status.guest.os at first contact; an unknown one only when none", async () => {
  await withGuest(async (h) => {
    await converge(h, ALL);
    assert.equal(guestOf(await mustGet<Domain>(h, "Domain", "web")).os, "systemd-networkd");
  });
  await withGuest(async (h, guest) => {
    guest.activeServices.clear(); // no systemd-networkd, nothing else lv knows
    await converge(h, ALL);
    const dom = await mustGet<Domain>(h, "Domain", "web");
    assert.equal(guestOf(dom).os, "unknown");
    assert.equal(ready(dom)?.status, "True", "no static address to configure: the family does not matter");
  });
});

Deno.test("deleting the Domain removes its inserted key and its known_hosts file under $LV_HOME", async () => {
  await withGuest(
    async (h) => {
      await converge(h, ALL);
      const dom = await mustGet<Domain>(h, "Domain", "web");
      const files = [insertedKeyPath(h.home, dom), `${h.home}/known_hosts/${dom.metadata.uid}`];
      for (const file of files) await Deno.stat(file); // both there
      await h.store.delete(key("Domain", "web"));
      await converge(h, ALL);
      for (const file of files) await assert.rejects(Deno.stat(file), Deno.errors.NotFound, file);
    },
    (d) =>
      d.spec.syncedFolders = [{ source: EXAMPLES_DIR, target: "/vagrant", type: "rsync", exclude: ["*"] }],
    {
      boxKey: true,
    },
  );
});

Deno.test("forwardedPorts: a forwarder started with the guest, kept, revived after kill -9, stopped by halt and delete", async () => {
  const fwd = new FakeForwarders();
  await withGuest(
    async (h, guest) => {
      await converge(h, ALL);
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(ready(dom)?.status, "True", ready(dom)?.message);
      assert.deepEqual(getCondition(dom.status, "PortsForwarded"), {
        ...getCondition(dom.status, "PortsForwarded")!,
        status: "True",
        reason: "Forwarding",
        message: "127.0.0.1:2222->22/tcp (pid 100)",
      });
      assert.deepEqual(fwd.configs[0].target, {
        host: ADDRESS,
        port: 22,
        user: "vagrant",
        keyFile: `${h.home}/box_key`,
        hostKey: guest.hostKey,
      });
      assert.equal(readRecord(h.home, dom.metadata.uid)?.pid, 100);
      await converge(h, ALL);
      assert.deepEqual(fwd.log, ["start 100 2222"], "a running forwarder is left alone");

      fwd.running.delete(100); // kill -9
      await passOk(h, "Domain", "web");
      assert.deepEqual(fwd.log, ["start 100 2222", "start 101 2222"]);
      const events = await h.store.events(key("Domain", "web"));
      assert.match(
        events.find((e) => e.reason === "ForwarderRestarted")?.message ?? "",
        /^port forwarder pid 100 was gone \(killed\?\): started again as pid 101$/,
      );

      await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = "Stopped");
      await converge(h, ALL);
      const halted = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(getCondition(halted.status, "PortsForwarded")?.reason, "Stopped");
      assert.deepEqual([...fwd.running], [], "halt stops it");
      assert.equal(readRecord(h.home, dom.metadata.uid), undefined);

      await editSpec<Domain>(h, "Domain", "web", (d) => d.spec.state = "Running");
      await converge(h, ALL);
      assert.deepEqual([...fwd.running], [102]);
      await h.store.delete(key("Domain", "web"));
      await converge(h, ALL);
      assert.deepEqual([...fwd.running], [], "delete stops it");
    },
    (d) => d.spec.forwardedPorts = [{ guest: 22, host: 2222, hostIp: "127.0.0.1", protocol: "tcp" }],
    {
      forwarders: fwd,
    },
  );
});

Deno.test("forwardedPorts: a host port in use is a PortsForwarded=False condition naming it; Ready is not held", async () => {
  const fwd = new FakeForwarders();
  const message = "host port 127.0.0.1:2222 is in use (forwarded to guest port 22)";
  fwd.failWith = new ForwarderStartError("PortInUse", message);
  await withGuest(
    async (h) => {
      await converge(h, ALL);
      const dom = await mustGet<Domain>(h, "Domain", "web");
      assert.equal(ready(dom)?.status, "True");
      const c = getCondition(dom.status, "PortsForwarded");
      assert.deepEqual([c?.status, c?.reason, c?.message], ["False", "PortInUse", message]);
      const warnings = (await h.store.events(key("Domain", "web"))).filter((e) => e.reason === "PortInUse");
      assert.equal(warnings.length, 1, "said once");
      fwd.failWith = undefined; // the port is free again: the next pass forwards
      await passOk(h, "Domain", "web");
      assert.equal(
        getCondition((await mustGet<Domain>(h, "Domain", "web")).status, "PortsForwarded")?.status,
        "True",
      );
    },
    (d) => d.spec.forwardedPorts = [{ guest: 22, host: 2222, hostIp: "127.0.0.1", protocol: "tcp" }],
    {
      forwarders: fwd,
    },
  );
});
