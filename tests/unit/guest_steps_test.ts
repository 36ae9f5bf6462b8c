/** Hostname, static network (systemd-networkd) and key insertion on the fake guest. */
import assert from "node:assert/strict";
import { HostKeyMismatchError } from "../../src/guest/host_key.ts";
import { generateKeyPair, insertedKeyPath, publicKeyBlob } from "../../src/guest/key_files.ts";
import { configureStatic } from "../../src/guest/steps/configure_static.ts";
import { networkdConfig } from "../../src/guest/network/networkd.ts";
import { setHostname } from "../../src/guest/steps/hostname.ts";
import { insertDomainKey, insertKey } from "../../src/guest/steps/insert_key.ts";
import { guestFixture, withFixture } from "./guest_fixture.ts";

Deno.test("setHostname sets /etc/hostname, the running name and the 127.0.1.1 line; again it only reads", async () => {
  await withFixture(undefined, async (f) => {
    const trips = f.guest.roundTrips();
    await setHostname(f.ctx.session, "web");
    assert.equal(f.guest.roundTrips() - trips, 2, "one batch reading, one sudo batch writing");
    assert.equal(f.guest.hostname, "web");
    assert.equal(f.guest.read("/etc/hostname"), "web\n");
    assert.equal(f.guest.read("/etc/hosts"), "127.0.0.1 localhost\n127.0.1.1 web\n::1 localhost\n");
    assert.equal(f.guest.files.get("/etc/hosts")?.owner, "root");
    const ops = f.guest.log.length;
    await setHostname(f.ctx.session, "web");
    assert.deepEqual(
      f.guest.log.slice(ops).map((o) => o.op),
      ["batch", "read", "read"],
      "idempotent: one batch reading, nothing written",
    );
  });
});

Deno.test("setHostname adds a 127.0.1.1 line where /etc/hosts has none", async () => {
  await withFixture(undefined, async (f) => {
    f.guest.files.get("/etc/hosts")!.content = "127.0.0.1 localhost";
    await setHostname(f.ctx.session, "db");
    assert.equal(f.guest.read("/etc/hosts"), "127.0.0.1 localhost\n127.0.1.1 db\n");
  });
});

Deno.test("setHostname fails like the guest when sudo asks a password or is missing", async () => {
  for (
    const [sudo, message] of [["password", /a password is required/], ["none", /sudo: not found/]] as const
  ) {
    const f = await guestFixture();
    try {
      f.guest.users.get("vagrant")!.sudo = sudo;
      await assert.rejects(setHostname(f.ctx.session, "web"), message);
      assert.equal(f.guest.hostname, "debian12", "nothing changed");
    } finally {
      await f.close();
    }
  }
});

const ETH1 = { mac: "52:54:00:aa:bb:01", address: "10.40.0.10", prefix: 24 };
const ETH2 = { mac: "52:54:00:aa:bb:02", address: "10.41.0.10", prefix: 16 };

Deno.test("configureStatic writes lv's networkd files, reloads, reconfigures only those interfaces", async () => {
  await withFixture(undefined, async (f) => {
    f.guest.addInterface("eth1", ETH1.mac);
    f.guest.addInterface("eth2", ETH2.mac);
    f.guest.files.set("/etc/systemd/network/10-eth0.network", {
      content: "[Match]\nName=eth0\n",
      mode: 0o644,
      owner: "root",
    });
    const trips = f.guest.roundTrips();
    await configureStatic(f.ctx.session, [ETH1, ETH2]);
    assert.equal(
      f.guest.roundTrips() - trips,
      4,
      "detection, lv's files and interfaces listed, their MACs read as root, one sudo batch writing",
    );
    assert.equal(f.guest.read("/etc/systemd/network/05-lv-525400aabb01.network"), networkdConfig(ETH1));
    assert.match(
      f.guest.read("/etc/systemd/network/05-lv-525400aabb02.network")!,
      /Address=10\.41\.0\.10\/16/,
    );
    assert.deepEqual(
      f.guest.networkctl,
      ["reload", "reconfigure eth1", "reconfigure eth2"],
      "eth0 (SSH) untouched",
    );

    f.guest.networkctl = [];
    await configureStatic(f.ctx.session, [ETH1]);
    assert.equal(
      f.guest.read("/etc/systemd/network/05-lv-525400aabb02.network"),
      undefined,
      "lv's stale file removed",
    );
    assert.equal(
      f.guest.read("/etc/systemd/network/10-eth0.network"),
      "[Match]\nName=eth0\n",
      "not lv's: kept",
    );
    assert.deepEqual(f.guest.networkctl, ["reload", "reconfigure eth1"]);
  });
});

Deno.test("configureStatic refuses a guest without systemd-networkd, changing nothing", async () => {
  await withFixture(undefined, async (f) => {
    f.guest.activeServices.delete("systemd-networkd");
    const files = f.guest.files.size;
    await assert.rejects(configureStatic(f.ctx.session, [ETH1]), /systemd-networkd/);
    assert.equal(f.guest.files.size, files);
    assert.deepEqual(f.guest.networkctl, []);
  });
});

Deno.test("insertDomainKey: the box key replaced by a proven key of the domain's own, saved 0600", async () => {
  await withFixture(undefined, async (f) => {
    const file = await insertDomainKey(f.ctx, f.keyFile);
    assert.equal(file, insertedKeyPath(f.home, f.dom));
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const keys = f.guest.read("/home/vagrant/.ssh/authorized_keys")!;
    const newBlob = await publicKeyBlob(await Deno.readTextFile(file));
    assert.ok(keys.includes(newBlob), "the new key is authorized");
    assert.ok(!keys.includes(await publicKeyBlob(f.boxKey.private)), "the box's key is gone");
    assert.equal(keys.trim().split("\n").length, 1);
    assert.deepEqual(f.guest.logins, ["vagrant", "vagrant"], "a second login proved the new key");
    assert.equal(f.guest.files.get("/home/vagrant/.ssh/authorized_keys")?.mode, 0o600);
    await assert.rejects(
      f.guest.driver.connect({
        host: f.ctx.address,
        port: 22,
        user: "vagrant",
        privateKey: f.boxKey.private,
      }),
      /authentication methods failed/,
    );
    assert.ok(f.events.some((e) => e.startsWith("KeyInserted: ")));
  });
});

Deno.test("insertKey keeps the box key and saves nothing when the new key's login fails", async () => {
  await withFixture(undefined, async (f) => {
    const pair = await generateKeyPair("lv web");
    let saved = false;
    await assert.rejects(
      insertKey(f.ctx.session, {
        pair,
        oldPublicBlobs: [await publicKeyBlob(f.boxKey.private)],
        proveLogin: () =>
          Promise.reject(new HostKeyMismatchError("10.123.0.50", "ssh-ed25519 AAAA", "ssh-ed25519 BBBB")),
        save: () => {
          saved = true;
          return "";
        },
      }),
      HostKeyMismatchError,
    );
    assert.equal(saved, false);
    assert.ok(
      f.guest.read("/home/vagrant/.ssh/authorized_keys")!.includes(await publicKeyBlob(f.boxKey.private)),
    );
  });
});
