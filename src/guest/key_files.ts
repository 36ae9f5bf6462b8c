/**
 * The SSH keys lv keeps on this host: the key pair it generates for a Domain (vagrant's insert_key), saved
 * 0600 under $LV_HOME/keys/UID, and which key lv logs in with.
 */
import { Buffer } from "node:buffer";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Box, Domain } from "../api/types.ts";
import type { Store } from "../store/store.ts";
import { vagrantInsecureKeyFile } from "./vagrant_insecure_key.ts";

/** Where the key lv inserted into a Domain's guest is kept. */
export function insertedKeyPath(home: string, dom: Domain): string {
  return join(home, "keys", dom.metadata.uid);
}

/**
 * The key lv logs in with: the one it inserted, else spec.ssh.privateKey, else the one the box ships, else
 * Vagrant's insecure keys (what a stock public box accepts).
 */
export async function privateKeyPath(home: string, store: Store, dom: Domain): Promise<string | undefined> {
  // The inserted key is found by its path, not only by status: a crash between installing it and writing
  // status must not lock lv out of the guest.
  const inserted = insertedKeyPath(home, dom);
  try {
    await Deno.stat(inserted);
    return inserted;
  } catch { /* none inserted */ }
  if (dom.spec.ssh.privateKey) return dom.spec.ssh.privateKey;
  const box = dom.spec.box
    ? await store.get({ kind: "Box", namespace: dom.metadata.namespace, name: dom.spec.box }) as
      | Box
      | undefined
    : undefined;
  return box?.status.privateKey ?? await vagrantInsecureKeyFile(home);
}

export interface KeyPair {
  /** OpenSSH private key text. */
  private: string;
  /** authorized_keys line: "ssh-ed25519 AAAA... comment". */
  public: string;
}

/**
 * A new ed25519 key pair (ssh2 loads on first use). ssh2 writes an ed25519 public key whose first byte is
 * zero one byte short (1 key in 256), which nothing can read back, itself included: such a pair is
 * thrown away and another made.
 */
export async function generateKeyPair(comment: string): Promise<KeyPair> {
  const { utils } = await import("./ssh2_utils.ts");
  for (;;) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) {
      return { private: pair.private, public: pair.public };
    }
  }
}

/** The base64 public key blob of a private key's text, as it stands in authorized_keys. */
export async function publicKeyBlob(privateKey: string): Promise<string> {
  const { utils } = await import("./ssh2_utils.ts");
  const key = utils.parseKey(privateKey);
  if (key instanceof Error) throw new Error(`not an SSH private key: ${key.message}`);
  const blob = (Array.isArray(key) ? key[0] : key).getPublicSSH();
  return Buffer.from(blob).toString("base64");
}

/** Saves the Domain's inserted private key (0600, written whole then renamed); returns its path. */
export function saveInsertedKey(home: string, dom: Domain, privateKey: string): string {
  const file = insertedKeyPath(home, dom);
  mkdirSync(join(home, "keys"), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.new`, privateKey, { mode: 0o600 });
  renameSync(`${file}.new`, file);
  return file;
}

/** Removes the Domain's inserted key, if any (the Domain is deleted). */
export async function removeInsertedKey(home: string, dom: Domain): Promise<void> {
  await Deno.remove(insertedKeyPath(home, dom)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
