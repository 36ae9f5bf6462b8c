/** What a Domain asks lv to do inside its guest: provisioners, synced folders, cloud-init. */

export interface ShellProvisioner {
  type: "shell";
  inline?: string;
  path?: string;
  args: string[];
  env: Record<string, string>;
  privileged: boolean;
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `file` provisioner: a host file, or a directory's contents, copied into the guest as the SSH user. */
export interface FileProvisioner {
  type: "file";
  /** A file or directory on the host (absolute after lv apply). */
  source: string;
  /** Absolute path in the guest: the file, or the directory the source directory's contents go into. */
  destination: string;
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `ansible`: ansible-playbook run on this host against the guest, with an inventory lv writes. */
export interface AnsibleProvisioner {
  type: "ansible";
  /** A playbook on the host (absolute after lv apply). */
  playbook: string;
  extraVars: Record<string, string>;
  limit?: string;
  tags: string[];
  /** ansible-playbook -v. */
  verbose: boolean;
  /** Inventory groups this Domain's guest is in. */
  groups: string[];
  /** Inventory variables of this Domain's guest. */
  hostVars: Record<string, string>;
  run: "once" | "always";
  name?: string;
}

/** One entry of Domain.spec.provision. */
export type Provisioner = ShellProvisioner | FileProvisioner | AnsibleProvisioner;

/** How a 9p folder maps file ownership between guest and host (libvirt's filesystem accessmode). */
export type FolderAccessMode = "mapped" | "passthrough" | "squash";

export interface SyncedFolder {
  source: string;
  target: string;
  type: "rsync" | "nfs" | "9p" | "virtiofs";
  exclude: string[];
  /** 9p and virtiofs: ownership mapping (virtiofs: passthrough only). Default passthrough. */
  accessmode?: FolderAccessMode;
  /** 9p and virtiofs: the guest cannot write. Default false. */
  readonly?: boolean;
}

/** cloud-init NoCloud seed lv builds for the Domain (src/cloud_init/). */
export interface DomainCloudInit {
  /** A mapping merged after lv's defaults; text (or a host file path) used as the whole user-data. */
  userData?: Record<string, unknown> | string;
  /** network-config (version 1 or 2) used instead of the one lv generates. */
  networkConfig?: Record<string, unknown>;
}
