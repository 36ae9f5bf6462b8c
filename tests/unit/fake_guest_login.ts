/** A login as vagrant to a fake guest, with a key authorized for the purpose (one key pair for every test). */
import { generateKeyPair } from "../../src/guest/key_files.ts";
import type { GuestSession } from "../../src/guest/session.ts";
import type { FakeGuest } from "./fake_guest.ts";
import type { Harness } from "./harness.ts";

const key = generateKeyPair("box");

/** Authorizes the key for vagrant in `guest` and logs in at the fake's address. */
export async function loginTo(guest: FakeGuest): Promise<GuestSession> {
  const pair = await key;
  guest.authorize("vagrant", pair.public);
  return await guest.driver.connect({
    host: "10.123.0.50",
    port: 22,
    user: "vagrant",
    privateKey: pair.private,
  });
}

/**
 * Makes `guest` the guest the harness's controller reaches (its driver and host commands), with a box key
 * authorized for vagrant written to `$home/box_key`; returns that file.
 */
export async function attachGuest(h: Harness, guest: FakeGuest): Promise<string> {
  const pair = await generateKeyPair("box");
  const file = `${h.home}/box_key`;
  await Deno.writeTextFile(file, pair.private, { mode: 0o600 });
  guest.authorize("vagrant", pair.public);
  h.ctx.guestDriver = guest.driver;
  h.ctx.runHost = guest.runHost;
  return file;
}
