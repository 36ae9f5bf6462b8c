/** A login as vagrant to a fake guest, with a key authorized for the purpose (one key pair for every test). */
import { generateKeyPair } from "../../src/guest/key_files.ts";
import type { GuestSession } from "../../src/guest/session.ts";
import type { FakeGuest } from "./fake_guest.ts";

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
