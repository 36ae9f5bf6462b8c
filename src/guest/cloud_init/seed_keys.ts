/**
 * The keys a cloud-init seed carries: lv's login key for the Domain (kept where lv looks for the key it
 * inserted, so it logs in with it) and an SSH host key lv generates and pins before first contact (no trust
 * on first use). Both private halves stay 0600 under $LV_HOME/keys, made once per Domain and reused by every
 * later seed, so a new seed (a new instance-id) keeps the guest's host key and lv's login.
 */
import { Buffer } from "node:buffer";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Domain } from "../../api/types.ts";
import { generateKeyPair, insertedKeyPath } from "../key_files.ts";

export interface SeedKeys {
  /** authorized_keys line of lv's login key. */
  authorizedKey: string;
  /** The guest's SSH host key: OpenSSH private key text and its public line ("ssh-ed25519 AAAA..."). */
  hostKey: { privateKey: string; publicKey: string };
}

/** Where the host key lv made for a Domain's guest is kept. */
export function hostKeyPath(home: string, dom: Domain): string {
  return join(home, "keys", `${dom.metadata.uid}.host`);
}

/** The private key at `file`, made (0600, written whole then renamed) when missing. */
async function keyAt(file: string, comment: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const pair = await generateKeyPair(comment);
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.new`, pair.private, { mode: 0o600 });
  renameSync(`${file}.new`, file);
  return pair.private;
}

/** "type base64" of a private key's public half. */
async function publicLine(privateKey: string, file: string): Promise<string> {
  const { utils } = await import("../ssh2_utils.ts");
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`${file}: not an SSH private key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return `${key.type} ${Buffer.from(key.getPublicSSH()).toString("base64")}`;
}

/** The Domain's seed keys, made on first use. */
export async function seedKeys(home: string, dom: Domain): Promise<SeedKeys> {
  const loginFile = insertedKeyPath(home, dom);
  const hostFile = hostKeyPath(home, dom);
  const login = await keyAt(loginFile, `lv ${dom.metadata.name}`);
  const host = await keyAt(hostFile, `root@${dom.spec.hostname ?? dom.metadata.name}`);
  return {
    authorizedKey: `${await publicLine(login, loginFile)} lv ${dom.metadata.name}`,
    hostKey: { privateKey: host, publicKey: await publicLine(host, hostFile) },
  };
}

/** The public line of the host key lv made for the Domain's seed, if it made one. */
export async function seedHostKey(home: string, dom: Domain): Promise<string | undefined> {
  const file = hostKeyPath(home, dom);
  try {
    return await publicLine(await Deno.readTextFile(file), file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
