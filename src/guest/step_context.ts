/** What a guest step (a folder type, a provisioner type) gets to work with. */
import type { Domain } from "../api/types.ts";
import type { SshEndpoint } from "../api/ssh_endpoint.ts";
import type { JumpHost } from "../config/ssh_transport.ts";
import type { HostCommand } from "./host_command.ts";
import type { GuestDriver, GuestSession } from "./session.ts";

/** Another Domain's guest as lv reaches it (ansible's inventory of several Domains). */
export interface GuestPeer {
  dom: Domain;
  /** Where lv reached its SSH (address and port: spec.ssh.port, or the forwarded host port), once it has. */
  endpoint?: SshEndpoint;
  /** The private key file lv logs in to it with. */
  keyFile?: string;
  /** The libvirt host to jump through when its libvirt is remote. */
  jump?: JumpHost;
}

export interface GuestStepContext {
  session: GuestSession;
  /** The driver the session came from: a step may log in again (to prove a key). */
  driver: GuestDriver;
  dom: Domain;
  /** The address lv reaches the guest's SSH on. */
  address: string;
  /** The port with it: spec.ssh.port, or the host port forwarded to it (api/ssh_endpoint.ts). */
  port: number;
  /** The private key file lv logs in with now (for plain OpenSSH: rsync). */
  keyFile: string;
  /** $LV_HOME. */
  home: string;
  /** The libvirt host to jump through when it is remote. */
  jump?: JumpHost;
  /** The address of this host on the lv-managed Network that `address` is on, if it is on one. */
  hostAddress?: string;
  /** The mount tags of the 9p and virtiofs devices the running domain has now (its live definition). */
  liveMountTags(): Promise<Set<string>>;
  /** The other Domains of this Domain's namespace (none known: only this one). */
  peers?(): Promise<GuestPeer[]>;
  /** Runs a command on this host (rsync, exportfs). */
  runHost: HostCommand;
  /** Records an event on the Domain (shown as progress). */
  event(reason: string, message: string): Promise<void>;
  /** Live output, shown and not recorded; `prefix` starts each line. */
  progress(chunk: string, prefix: string): void;
}
