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

/** What ansible and ansible_local share: the play's options and the guest's place in the inventory. */
export interface AnsiblePlayOptions {
  extraVars: Record<string, string>;
  limit?: string;
  tags: string[];
  /** ansible-playbook -v. */
  verbose: boolean;
  /** Inventory groups this Domain's guest is in. */
  groups: string[];
  /** Inventory variables of this Domain's guest. */
  hostVars: Record<string, string>;
}

/** Vagrant's `ansible`: ansible-playbook run on this host against the guest, with an inventory lv writes. */
export interface AnsibleProvisioner extends AnsiblePlayOptions {
  type: "ansible";
  /** A playbook on the host (absolute after lv apply). */
  playbook: string;
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `ansible_local`: ansible-playbook run inside the guest on a playbook already there. */
export interface AnsibleLocalProvisioner extends AnsiblePlayOptions {
  type: "ansible_local";
  /** The playbook in the guest, relative to provisioningPath unless absolute. */
  playbook: string;
  /** The guest directory ansible-playbook runs in (a synced folder's target, or where a file provisioner put it). */
  provisioningPath: string;
  /** Install ansible with the guest's package manager when it has none. */
  install: boolean;
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `puppet`: `puppet apply` in the guest on manifests (and modules) copied from the host. */
export interface PuppetProvisioner {
  type: "puppet";
  /** A host directory of manifests (absolute after lv apply). */
  manifestsPath: string;
  /** The manifest in manifestsPath that is applied. */
  manifestFile: string;
  /** A host directory of modules (absolute after lv apply). */
  modulePath?: string;
  /** Facts given to puppet (FACTER_name=value). */
  facter: Record<string, string>;
  /** Extra `puppet apply` arguments. */
  options: string[];
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `salt`, masterless: `salt-call --local` in the guest on states copied from the host. */
export interface SaltProvisioner {
  type: "salt";
  /** A host directory of states, the minion's file root (absolute after lv apply). */
  statesPath?: string;
  /** A host minion configuration file, copied into the guest and used (salt-call --config-dir). */
  minionConfig?: string;
  /** state.apply these states; none: the highstate (the top file's). */
  states: string[];
  /** Pillar data given on the command line. */
  pillar: Record<string, string>;
  /** salt-call --log-level. */
  logLevel: string;
  /** Extra salt-call arguments. */
  saltCallArgs: string[];
  run: "once" | "always";
  name?: string;
}

/** One container a docker or podman provisioner runs (Vagrant's `run` entries). */
export interface ContainerRun {
  /** The container's name. */
  name: string;
  /** Image to run; default the name. */
  image?: string;
  /** Command (and arguments) given to the image. */
  cmd: string[];
  /** Extra `docker run` arguments ("-p", "8080:80"). */
  args: string[];
  /** Run detached (-d). */
  daemonize: boolean;
  /** The restart policy. */
  restart: string;
}

/** Vagrant's `docker`: images pulled and containers run in the guest. */
export interface DockerProvisioner {
  type: "docker";
  images: string[];
  /** Vagrant's `run` entries (`run` itself says once or always). */
  containers: ContainerRun[];
  run: "once" | "always";
  name?: string;
}

/** Vagrant's `podman`: the same as docker with podman. */
export interface PodmanProvisioner extends Omit<DockerProvisioner, "type"> {
  type: "podman";
}

/** One entry of Domain.spec.provision. */
export type Provisioner =
  | ShellProvisioner
  | FileProvisioner
  | AnsibleProvisioner
  | AnsibleLocalProvisioner
  | PuppetProvisioner
  | SaltProvisioner
  | DockerProvisioner
  | PodmanProvisioner;

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
