/**
 * Vagrant's insecure keys: the embedded private keys are the published pairs, lv writes them 0600 under
 * $LV_HOME, picks them when nothing else gives a key, and a key file holding both logs in to a server that
 * accepts only the second (an ssh2 server on 127.0.0.1).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { type AuthContext, utils } from "ssh2";
import type { Box, Domain } from "../../src/api/types.ts";
import { privateKeyPath } from "../../src/guest/key_files.ts";
import { GuestConnection } from "../../src/guest/ssh_client.ts";
import {
  insecureKeyPath,
  privateKeysIn,
  VAGRANT_INSECURE_PRIVATE_KEYS,
  VAGRANT_INSECURE_PUBLIC_KEYS,
  vagrantInsecureKeyFile,
} from "../../src/guest/vagrant_insecure_key.ts";
import { createAll, example, newHarness } from "./harness.ts";
import { loopbackSshServer } from "./ssh_loopback_server.ts";

function publicBlob(privateKey: string): Buffer {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  return Buffer.from((Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH());
}

Deno.test("the embedded insecure private keys are Vagrant's published pairs (RSA, ed25519)", () => {
  assert.equal(VAGRANT_INSECURE_PRIVATE_KEYS.length, 2);
  VAGRANT_INSECURE_PRIVATE_KEYS.forEach((key, i) => {
    const [type, blob] = VAGRANT_INSECURE_PUBLIC_KEYS[i].split(" ");
    assert.equal(publicBlob(key).toString("base64"), blob);
    assert.equal(type, ["ssh-rsa", "ssh-ed25519"][i]);
  });
});

Deno.test("vagrantInsecureKeyFile() writes both keys 0600 once; privateKeysIn() splits them", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-unit-" });
  try {
    const path = await vagrantInsecureKeyFile(home);
    assert.equal(path, insecureKeyPath(home));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(path);
    assert.deepEqual(privateKeysIn(text), [...VAGRANT_INSECURE_PRIVATE_KEYS]);
    assert.deepEqual(privateKeysIn(VAGRANT_INSECURE_PRIVATE_KEYS[1]), [VAGRANT_INSECURE_PRIVATE_KEYS[1]]);
    assert.equal(await vagrantInsecureKeyFile(home), path);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("privateKeyPath(): spec.ssh.privateKey, else the box's key, else Vagrant's insecure keys", async () => {
  const h = await newHarness();
  try {
    const [box] = await createAll(h, [example<Box>("Box", "tiny")]) as [Box];
    const dom = example<Domain>("Domain", "web", (d) => d.spec.box = "tiny");
    dom.metadata.uid = "uid-web";
    assert.equal(await privateKeyPath(h.home, h.store, dom), insecureKeyPath(h.home));
    box.status.privateKey = "/boxes/unpacked/vagrant_key";
    await h.store.updateStatus(box);
    assert.equal(await privateKeyPath(h.home, h.store, dom), "/boxes/unpacked/vagrant_key");
    dom.spec.ssh.privateKey = "/home/me/.ssh/id_ed25519";
    assert.equal(await privateKeyPath(h.home, h.store, dom), "/home/me/.ssh/id_ed25519");
  } finally {
    await h.close();
  }
});

Deno.test("GuestConnection with a file of several keys tries each (a server taking only the ed25519 one)", async () => {
  const accepted = publicBlob(VAGRANT_INSECURE_PRIVATE_KEYS[1]);
  const offered: string[] = [];
  const server = await loopbackSshServer((client) => {
    client.on("authentication", (ctx: AuthContext) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      offered.push(ctx.key.algo);
      const ok = ctx.key.data.length === accepted.length && timingSafeEqual(ctx.key.data, accepted);
      return ok ? ctx.accept() : ctx.reject(["publickey"]);
    });
  });
  try {
    const conn = await GuestConnection.connect({
      host: "127.0.0.1",
      port: server.port,
      user: "vagrant",
      privateKey: VAGRANT_INSECURE_PRIVATE_KEYS.join(""),
      timeoutMs: 10_000,
    });
    conn.close();
    assert.ok(offered.some((a) => a.startsWith("rsa") || a === "ssh-rsa"), `RSA offered first: ${offered}`);
    assert.equal(offered.at(-1), "ssh-ed25519");
  } finally {
    await server.close();
  }
});
