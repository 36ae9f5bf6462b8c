/**
 * Apply's writes are one etcd transaction: a store that refuses one of them (here etcd's own access
 * control: the user may write Volumes and Networks, not Domains) fails the apply with etcd's reason and
 * leaves nothing written, not the objects before the refused one. Once the user may write Domains too, the
 * same apply writes everything.
 */
import assert from "node:assert/strict";
import { EtcdCluster } from "./etcd_cluster.ts";
import { Lv } from "./helpers.ts";

const options = { sanitizeResources: false, sanitizeOps: false };

const ROOT_USER = "root:rootpw";
const PASSWORD = "part-pw";

const MANIFEST = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: atomic-net}
spec: {mode: isolated, ipv4: {address: 10.125.0.1, prefix: 24}}
---
apiVersion: lv.dev/v1alpha1
kind: Volume
metadata: {name: atomic-disk}
spec: {size: 1Mi}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: atomic-web}
spec: {communicator: none, driver: qemu, memory: 128, state: Stopped}
`;

Deno.test({
  name: "a store that refuses one of apply's writes leaves nothing written (one etcd transaction)",
  ...options,
  fn: async (t) => {
    const etcd = await EtcdCluster.start(1);
    const hosts = etcd.url().slice("etcd://".length);
    const lv = new Lv(() => ({ LV_STORE: `etcd://part@${hosts}`, LV_STORE_PASSWORD: PASSWORD }));
    const file = `${lv.home}/atomic.yaml`;
    Deno.writeTextFileSync(file, MANIFEST);
    const objects = async () =>
      (await etcd.etcdctl("--user", ROOT_USER, "get", "/lv/objects/", "--prefix", "--keys-only"))
        .split("\n").filter((l) => l);
    try {
      await etcd.etcdctl("user", "add", ROOT_USER);
      await etcd.etcdctl("user", "grant-role", "root", "root");
      await etcd.etcdctl("user", "add", `part:${PASSWORD}`);
      await etcd.etcdctl("role", "add", "part");
      for (
        const prefix of [
          "/lv/meta/",
          "/lv/events/",
          "/lv/leases/",
          "/lv/objects/Network/",
          "/lv/objects/Volume/",
        ]
      ) {
        await etcd.etcdctl("role", "grant-permission", "part", "--prefix=true", "readwrite", prefix);
      }
      await etcd.etcdctl("role", "grant-permission", "part", "--prefix=true", "read", "/lv/");
      await etcd.etcdctl("user", "grant-role", "part", "part");
      await etcd.etcdctl("auth", "enable");

      await t.step(
        "the Domain's write is refused: exit 1 with etcd's reason, and no object written",
        async () => {
          const r = await lv.run(["apply", "-f", file, "--wait=false"]);
          assert.equal(r.code, 1, r.stdout + r.stderr);
          assert.match(r.stderr, /permission denied/);
          assert.equal(r.stdout, "", "nothing reported as created");
          assert.deepEqual(await objects(), []);
        },
      );

      await t.step("allowed to write Domains, the same apply writes all three", async () => {
        await etcd.etcdctl(
          "--user",
          ROOT_USER,
          "role",
          "grant-permission",
          "part",
          "--prefix=true",
          "readwrite",
          "/lv/objects/Domain/",
        );
        const r = await lv.ok(["apply", "-f", file, "--wait=false"]);
        assert.equal(
          r.stdout,
          "network/atomic-net created\nvolume/atomic-disk created\ndomain/atomic-web created\n",
        );
        assert.deepEqual((await objects()).sort(), [
          "/lv/objects/Domain/default/atomic-web",
          "/lv/objects/Network/default/atomic-net",
          "/lv/objects/Volume/default/atomic-disk",
        ]);
      });
    } finally {
      lv.cleanup();
      await etcd.stop();
    }
  },
});
