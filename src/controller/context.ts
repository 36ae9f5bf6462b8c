/** What reconcilers get to work with, and what they return. */
import type { AnyResource, Kind } from "../api/types.ts";
import type { TransferProgress } from "../box/transfer.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import type { JumpHost } from "../config/ssh_transport.ts";
import type { Store } from "../store/store.ts";
import type { GuestDriver } from "../guest/session.ts";
import type { HostCommand } from "../guest/host_command.ts";
import type { ForwarderProcesses } from "../guest/forwarder/forwarder_supervisor.ts";

export interface ControllerContext {
  store: Store;
  /** The libvirt connection an object lives on. */
  libvirtFor(obj: AnyResource): Libvirt;
  /** The host to jump through to reach obj's guests (its libvirt is remote, over ssh); none when local. */
  jumpFor?(obj: AnyResource): JumpHost | undefined;
  /** Records an event on the object and shows it as progress. */
  event(obj: AnyResource, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
  /** Live output (provisioners): shown, not recorded. `prefix` starts each line. */
  progress?(obj: AnyResource, text: string, prefix: string): void;
  /** Byte progress of a box download or upload for `obj`: shown live (a bar on a terminal), not recorded. */
  transfer?(obj: AnyResource, progress: TransferProgress): void;
  /** $LV_HOME: caches (downloaded boxes, keys) live under it. */
  home: string;
  /** The config file's boxServerUrl: the Vagrant catalog for Box names (USER/NAME); $LV_BOX_SERVER_URL wins. */
  boxServerUrl?: string;
  now(): Date;
  /** How guests are reached; default SSH (guest/ssh_session.ts). Unit tests give a fake guest. */
  guestDriver?: GuestDriver;
  /** Runs rsync and exportfs on this host; default a subprocess (guest/host_command.ts). */
  runHost?: HostCommand;
  /** Starts and stops forwardedPorts' forwarder processes; default lv itself (forwarder_processes.ts). */
  forwarders?: ForwarderProcesses;
}

export interface ReconcileResult {
  /** Look again after this long even if nothing changes (polling libvirt for a state). */
  requeueAfterMs?: number;
  /** Look again at once: the pass wrote the object itself (its finalizer) and ended there. */
  requeue?: boolean;
}

export interface Reconciler {
  kind: Kind;
  /** Brings libvirt toward obj's spec and writes obj's status. Level-triggered and idempotent. */
  reconcile(obj: AnyResource, ctx: ControllerContext): Promise<ReconcileResult | void>;
}

/** A failure retrying cannot fix until the spec (or the world, by hand) changes: no backoff requeue. */
export class TerminalError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "TerminalError";
  }
}

/** A failure retrying may fix (a server that timed out): retried with backoff; the reason names it. */
export class RetryableError extends Error {
  constructor(readonly reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RetryableError";
  }
}

/** A dependency is not ready yet: Ready=False with this reason, look again later, not a failure. */
export class WaitingError extends Error {
  constructor(readonly reason: string, message: string, readonly retryAfterMs = 2000) {
    super(message);
    this.name = "WaitingError";
  }
}

/** The finalizer lv puts on every object whose libvirt side it must clean up. */
export const FINALIZER = "lv.dev/libvirt";

/** A same-named libvirt object lv did not create (or made for another resource): never touched. */
export function nameConflict(
  what: "domain" | "network",
  name: string,
  owner: { kind: string; name: string; uid: string } | undefined,
): TerminalError {
  const whose = owner ? ` (it belongs to ${owner.kind.toLowerCase()}/${owner.name} uid ${owner.uid})` : "";
  return new TerminalError(
    "NameConflict",
    `libvirt already has a ${what} "${name}" that lv did not create${whose}; lv will not modify or delete it. ` +
      `Rename this ${what === "domain" ? "Domain" : "Network"} or remove that ${what} by hand.`,
  );
}
