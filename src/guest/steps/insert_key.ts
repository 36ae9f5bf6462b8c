/**
 * vagrant's insert_key: a key of the domain's own replaces the box's shared one in the login user's
 * ~/.ssh/authorized_keys.
 */
import { generateKeyPair, type KeyPair, publicKeyBlob, saveInsertedKey } from "../key_files.ts";
import { check, type GuestSession } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";

const AUTHORIZED_KEYS = ".ssh/authorized_keys";

export interface InsertKeyOptions {
  /** The key pair to insert (key_files.ts generateKeyPair). */
  pair: KeyPair;
  /** The base64 blob of the key it replaces (the box's), removed at the end. */
  oldPublicBlob: string;
  /** Logs in with the new private key and out again: rejects when the guest does not take it. */
  proveLogin(privateKey: string): Promise<void>;
  /** Keeps the new private key on this host (it is what lv logs in with from then on); returns its path. */
  save(privateKey: string): string;
}

/** authorized_keys text without the lines that carry `blob`. */
export function withoutKey(text: string, blob: string): string {
  return text.split("\n").filter((line) => !line.split(/\s+/).includes(blob)).join("\n");
}

/**
 * Adds the new public key, proves a login with it, saves it, and only then removes the old one: a crash at
 * any point leaves lv a key that works (the saved one is found first, see privateKeyPath). Each write
 * replaces authorized_keys whole (0600, in ~/.ssh 0700). Returns the saved key's path. Running it again
 * adds another new key and removes the old one again: the caller runs it while lv still logs in with the
 * box's key only.
 */
export async function insertKey(session: GuestSession, options: InsertKeyOptions): Promise<string> {
  await check(session, ["mkdir", "-p", "-m", "700", ".ssh"], { what: "cannot install lv's key" });
  const before = await session.readFile(AUTHORIZED_KEYS) ?? "";
  const added = `${before}${before && !before.endsWith("\n") ? "\n" : ""}${options.pair.public.trim()}\n`;
  await session.putFile(AUTHORIZED_KEYS, added, { mode: 0o600 });
  await options.proveLogin(options.pair.private);
  // Proven: from here on lv logs in with it, then the box's key goes.
  const file = options.save(options.pair.private);
  const current = await session.readFile(AUTHORIZED_KEYS) ?? "";
  const removed = withoutKey(current, options.oldPublicBlob);
  if (removed !== current) await session.putFile(AUTHORIZED_KEYS, removed, { mode: 0o600 });
  return file;
}

/**
 * insertKey for the Domain: a new ed25519 key, proven by a second login (same pinned host key, same jump),
 * saved 0600 under $LV_HOME/keys, replacing the key in `oldKeyFile`. Returns the new key's path.
 */
export async function insertDomainKey(ctx: GuestStepContext, oldKeyFile: string): Promise<string> {
  const { dom } = ctx;
  const file = await insertKey(ctx.session, {
    pair: await generateKeyPair(`lv ${dom.metadata.name}`),
    oldPublicBlob: await publicKeyBlob(await Deno.readTextFile(oldKeyFile)),
    proveLogin: async (privateKey) => {
      const check = await ctx.driver.connect({
        host: ctx.address,
        port: dom.spec.ssh.port,
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
