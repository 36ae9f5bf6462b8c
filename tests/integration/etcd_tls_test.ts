/**
 * etcds://: a real etcd serving clients over TLS with client certificates and auth on (a CA of the test's
 * own, made with openssl), reached through the store URL's cacert/cert/key and a user whose password comes
 * from LV_STORE_PASSWORD and never shows.
 */
import assert from "node:assert/strict";
import { openStore } from "../../src/cli/open_store.ts";
import { parseStoreUrl } from "../../src/config/store_url.ts";
import { EtcdError } from "../../src/store/etcd_client.ts";
import { KEY, volume } from "../unit/store_suite.ts";
import { EtcdCluster } from "./etcd_cluster.ts";
import { Lv } from "./helpers.ts";

const PASSWORD = "s3cret-Pw-1";

Deno.test({
  name: "etcds:// with CA, client certificate, user and password: works, and refusals say why",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const etcd = await EtcdCluster.start(1, { tls: true });
    const url = `${etcd.url()}&user=lv`;
    try {
      await etcd.etcdctl("user", "add", "root:rootpw");
      await etcd.etcdctl("user", "grant-role", "root", "root");
      await etcd.etcdctl("user", "add", `lv:${PASSWORD}`);
      await etcd.etcdctl("role", "add", "lv");
      await etcd.etcdctl("role", "grant-permission", "lv", "--prefix=true", "readwrite", "/lv/");
      await etcd.etcdctl("user", "grant-role", "lv", "lv");
      await etcd.etcdctl("auth", "enable");

      await t.step("the store works with the right password", async () => {
        const store = await openStore(parseStoreUrl(url), { password: PASSWORD });
        try {
          const created = await store.create(volume("disk"));
          assert.deepEqual(await store.get(KEY), created);
        } finally {
          store.close();
        }
      });
      await t.step("a wrong password is refused, naming the user, not the password", async () => {
        await assert.rejects(() => openStore(parseStoreUrl(url), { password: "wrong" }), (e: Error) => {
          assert.ok(e instanceof EtcdError);
          assert.match(e.message, /authentication of user "lv" failed/);
          assert.doesNotMatch(e.message, /wrong/);
          return true;
        });
      });
      await t.step("without the client certificate the TLS handshake is refused", async () => {
        const noCert = parseStoreUrl(url.replace(/&cert=[^&]*&key=[^&]*/, ""));
        await assert.rejects(
          () => openStore(noCert, { password: PASSWORD }),
          /etcd unreachable: https:\/\/127\.0\.0\.1:\d+: /,
        );
      });
      await t.step(
        "lv with LV_STORE and LV_STORE_PASSWORD lists the object; the password never shows",
        async () => {
          const lv = new Lv(() => ({
            LV_STORE: url,
            LV_STORE_PASSWORD: PASSWORD,
            LV_CONNECT: "test:///default",
          }));
          try {
            const r = await lv.ok(["get", "volumes", "-o", "yaml"]);
            assert.match(r.stdout, /name: disk/);
            const bad = await lv.run(["get", "volumes", "--store", url.replace("user=lv", "user=nobody")]);
            assert.equal(bad.code, 1);
            assert.match(bad.stderr, /authentication of user "nobody" failed/);
            for (const out of [r.stdout, r.stderr, bad.stdout, bad.stderr]) {
              assert.doesNotMatch(out, new RegExp(PASSWORD));
            }
          } finally {
            lv.cleanup();
          }
        },
      );
    } finally {
      await etcd.stop();
    }
  },
});
