/**
 * The pinned host key where plain OpenSSH finds it ($LV_HOME/known_hosts/UID, under the alias lv-NAME), and
 * the options OpenSSH (rsync, lv ssh-config) needs to reach a guest with it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Domain } from "../api/types.ts";
import type { JumpHost } from "../config/ssh_transport.ts";

/** The alias OpenSSH knows a Domain's guest by (HostKeyAlias). */
export function hostAlias(dom: Domain): string {
  return `lv-${dom.metadata.name}`;
}

function knownHostsPath(home: string, dom: Domain): string {
  return join(home, "known_hosts", dom.metadata.uid);
}

/** Writes the pinned host key where plain OpenSSH finds it (under alias lv-NAME); returns the file. */
export function knownHostsFile(home: string, dom: Domain, hostKey: string): string {
  const file = knownHostsPath(home, dom);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${hostAlias(dom)} ${hostKey}\n`, { mode: 0o600 });
  return file;
}

/** Removes the Domain's known_hosts file, if any (the Domain is deleted). */
export async function removeKnownHosts(home: string, dom: Domain): Promise<void> {
  await Deno.remove(knownHostsPath(home, dom)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** ssh options plain OpenSSH (rsync, ssh-config) needs to reach the guest with the pinned key. */
export function opensshOptions(
  keyFile: string,
  knownHosts: string,
  alias: string,
  port: number,
  jump?: JumpHost,
): string[] {
  return [
    ...(jump ? ["-o", `ProxyCommand=${jump.proxyCommand}`] : []),
    "-p",
    String(port),
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `HostKeyAlias=${alias}`,
    "-o",
    "BatchMode=yes",
    // A guest that stops answering ends the transfer (rsync, ansible) instead of hanging it.
    "-o",
    "ConnectTimeout=30",
    "-o",
    "ServerAliveInterval=30",
  ];
}
