/** What lv has done inside a Domain's guest: status.guest, written by the guest orchestration (controller/guest.ts). */
export interface GuestStatus {
  /** libvirt domain id the work below was done for. */
  domId?: string;
  /** The domain id whose per-boot work (folders, run: always provisioners) completed. */
  booted?: string;
  /** When lv first saw this domain id running. */
  since?: string;
  ready?: boolean;
  hostname?: string;
  /** The "once" provisioners have run (first boot). */
  provisioned?: boolean;
  provisionRequest?: string;
  rsyncRequest?: string;
  /** JSON of the synced folders last synced, to sync again when they change. */
  synced?: string;
  /** JSON of static interface configuration written into the guest. */
  staticConfig?: string;
  /** The guest's OS family for network configuration (src/guest/network/families.ts), found at first contact. */
  os?: string;
  /** The domain id for which cloud-init had finished (spec.cloudInit). */
  cloudInitDone?: string;
  /** Address lv reaches SSH on (with `port`, the SSH endpoint: api/ssh_endpoint.ts). */
  address?: string;
  /** The host port forwarded to the guest's sshd (a rootless session's user-mode network); else spec.ssh.port. */
  port?: number;
  /** metadata.generation this was done for. */
  generation?: number;
  /** A provisioner failed for this generation and request: reported until they change. */
  failure?: { reason: string; message: string };
}

/** A Domain's status.guest, typed ({} before lv first reached the guest). */
export function guestStatusOf(status: { guest?: Record<string, unknown> }): GuestStatus {
  return (status.guest ?? {}) as GuestStatus;
}
