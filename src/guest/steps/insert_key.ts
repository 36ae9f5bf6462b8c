/**
 * vagrant's insert_key: a key of the domain's own replaces the box's shared one in the login user's
 * ~/.ssh/authorized_keys.
 */
import { generateKeyPair, type KeyPair, publicKeyBlob, saveInsertedKey } from "../key_files.ts";
import { appendedText, type GuestOp, type GuestSession, runStepBatch } from "../session.ts";
import { privateKeysIn } from "../vagrant_insecure_key.ts";
import type { GuestStepContext } from "../step_context.ts";

const AUTHORIZED_KEYS = ".ssh/authorized_keys";

export interface InsertKeyOptions {
  /** The key pair to insert (key_files.ts generateKeyPair). */
  pair: KeyPair;
  /** The base64 blobs of the keys it replaces (the box's, or Vagrant's two insecure ones), removed at the end. */
  oldPublicBlobs: string[];
  /**
   * The comment of the keys this step adds (`lv NAME`): other keys with it, left by an insertion cut short
   * (its private half never saved), are removed with the old ones.
   */
  comment?: string;
  /** Logs in with the new private key and out again: rejects when the guest does not take it. */
  proveLogin(privateKey: string): Promise<void>;
  /** Keeps the new private key on this host (it is what lv logs in with from then on); returns its path. */
  save(privateKey: string): string;
  /** authorized_keys as the caller read it already (AUTHORIZED_KEYS_PROBE; "" when missing): not read again. */
  authorizedKeys?: string;
  /** The caller's batch that read `authorizedKeys` added the new key too (keyAddOps): not written again. */
  added?: boolean;
}

/** What the step reads (changes nothing): the login user's authorized_keys. */
export const AUTHORIZED_KEYS_PROBE: GuestOp = { read: AUTHORIZED_KEYS };

/** What adds `publicKey` to the login user's authorized_keys (0600, in ~/.ssh 0700, made when missing). */
export function keyAddOps(publicKey: string): GuestOp[] {
  return [{
    put: AUTHORIZED_KEYS,
    content: `${publicKey.trim()}\n`,
    mode: 0o600,
    append: true,
    dirMode: 0o700,
  }];
}

/** authorized_keys text without the lines that carry any of `blobs`. */
export function withoutKeys(text: string, blobs: string[]): string {
  return text.split("\n").filter((line) => !line.split(/\s+/).some((word) => blobs.includes(word))).join(
    "\n",
  );
}

/**
 * Adds the new public key, proves a login with it, saves it, and only then removes the old one: a crash at
 * any point leaves lv a key that works (the saved one is found first, see privateKeyPath). Each write
 * replaces authorized_keys whole (0600, in ~/.ssh 0700). Returns the saved key's path. Running it again
 * adds another new key and removes the old one again: the caller runs it while lv still logs in with the
 * box's key only. Two round trips (~/.ssh and the added key in one batch; the removal) besides the proving
 * login, and a read unless `authorizedKeys` is given; one when the caller's batch added the key (`added`).
 */
export async function insertKey(session: GuestSession, options: InsertKeyOptions): Promise<string> {
  const before = options.authorizedKeys ?? await session.readFile(AUTHORIZED_KEYS) ?? "";
  const added = appendedText(before, `${options.pair.public.trim()}\n`);
  if (!options.added) await runStepBatch(session, "cannot install lv's key", keyAddOps(options.pair.public));
  await options.proveLogin(options.pair.private);
  // Proven: from here on lv logs in with it, then the box's key goes (nothing else writes the file meanwhile).
  const file = options.save(options.pair.private);
  const blob = (line: string) => line.trim().split(/\s+/)[1];
  const stale = options.comment === undefined ? [] : added.split("\n")
    .filter((line) => line.endsWith(` ${options.comment}`))
    .map(blob)
    .filter((b) => b !== blob(options.pair.public));
  const removed = withoutKeys(added, [...options.oldPublicBlobs, ...stale]);
  if (removed !== added) await session.putFile(AUTHORIZED_KEYS, removed, { mode: 0o600 });
  return file;
}

/** The comment of domain `name`'s key in authorized_keys. */
const domainKeyComment = (name: string) => `lv ${name}`;

/** A new ed25519 key pair for domain `name` (its comment says whose). */
export function domainKeyPair(name: string): Promise<KeyPair> {
  return generateKeyPair(domainKeyComment(name));
}

/**
 * insertKey for the Domain: a new ed25519 key, proven by a second login (same pinned host key, same jump),
 * saved 0600 under $LV_HOME/keys, replacing the key in `oldKeyFile`. Returns the new key's path. `done`: the
 * caller's batch read authorized_keys and added `pair`'s public key (readGuestFacts' addKey).
 */
export async function insertDomainKey(
  ctx: GuestStepContext,
  oldKeyFile: string,
  done?: { authorizedKeys: string; pair: KeyPair },
): Promise<string> {
  const { dom } = ctx;
  const file = await insertKey(ctx.session, {
    authorizedKeys: done?.authorizedKeys,
    added: !!done,
    pair: done?.pair ?? await domainKeyPair(dom.metadata.name),
    comment: domainKeyComment(dom.metadata.name),
    oldPublicBlobs: await Promise.all(privateKeysIn(await Deno.readTextFile(oldKeyFile)).map(publicKeyBlob)),
    proveLogin: async (privateKey) => {
      const check = await ctx.driver.connect({
        host: ctx.address,
        port: ctx.port,
        user: dom.spec.ssh.user,
        privateKey,
        pinnedHostKey: ctx.session.hostKey,
        timeoutMs: 8000,
        via: ctx.jump,
      });
      check.close();
    },
    save: (privateKey) => saveInsertedKey(ctx.home, dom, privateKey),
  });
  await ctx.event("KeyInserted", `the box's SSH key replaced by a key of this domain's own (${file})`);
  return file;
}
