/** The resource model: apiVersion lv.dev/v1alpha1, kinds Box, Volume, Network, Domain. */

import type { DomainCloudInit, Provisioner, SyncedFolder } from "./guest_spec_types.ts";
export type * from "./guest_spec_types.ts";
import type {
  BootDevice,
  DomainCdrom,
  DomainCpu,
  DomainGraphics,
  DomainHostDevice,
  DomainInput,
  DomainMemoryBacking,
  DomainRng,
  DomainTpm,
  DomainVideo,
  DomainWatchdog,
  Firmware,
} from "./machine_types.ts";
export type * from "./machine_types.ts";

export const API_VERSION = "lv.dev/v1alpha1";
export const KINDS = ["Box", "Volume", "Network", "Domain"] as const;
export type Kind = typeof KINDS[number];

/** Identifies one object. */
export interface ObjectKey {
  kind: Kind;
  namespace: string;
  name: string;
}

export interface OwnerReference {
  kind: Kind;
  name: string;
  uid: string;
  /** The owner is deleted before or with this object (garbage collection). */
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  uid: string;
  /** Bumps when spec changes, never on status or metadata changes. */
  generation: number;
  /** Store-wide sequence number of the last write; compare-and-swap token. */
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  finalizers: string[];
  ownerReferences: OwnerReference[];
}

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface Status {
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
  [key: string]: unknown;
}

export interface Resource<K extends Kind = Kind, S = unknown, T extends Status = Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status: T;
}

// ---------------------------------------------------------------- Box

export interface BoxSpec {
  /** The lv context (libvirt host) this lives on; set by lv apply from the selected context. */
  context?: string;
  /**
   * Local path or http(s) URL of a qcow2/raw image or a Vagrant libvirt .box (tar, optionally compressed),
   * a Vagrant catalog name (USER/NAME), or the http(s) URL of a box metadata JSON file.
   */
  source: string;
  /** Vagrant version constraint for a catalog source: `1.2.3`, `>= 4.0, < 5.0`, `~> 4.3`. Default: newest. */
  version?: string;
  /** Optional "sha256:<hex>" or bare hex sha256 of the source file. */
  checksum?: string;
  /** Storage pool the base volume is uploaded to. Default "default". */
  pool: string;
}

export interface BoxStatus extends Status {
  /** Name of the base volume in the pool, once uploaded completely. */
  volume?: string;
  /** Host path of the base volume. */
  path?: string;
  /** Name of a volume lv is creating (recorded before vol-create, so a crash leaves no unknown volume). */
  pendingVolume?: string;
  /** sha256 of the source file uploaded. */
  sha256?: string;
  /** A private key shipped inside the .box (vagrant_key), unpacked under $LV_HOME; Domains use it by default. */
  privateKey?: string;
  format?: "qcow2" | "raw";
  /** Virtual size in bytes. */
  virtualSize?: number;
  /** Names of Volumes that use this box as backing store. */
  usedBy?: string[];
  /** The catalog version chosen for a catalog source, kept until spec.source or spec.version changes. */
  version?: BoxVersionStatus;
  /**
   * Name of the first disk's volume when it is not box-NAME: after `lv box update`, box-NAME-vVERSION, so
   * the volumes of the version before stay for the overlays on them (lv box prune removes them once unused).
   */
  volumeBase?: string;
  /**
   * Every disk of the box in order, each its own base volume (box-NAME, box-NAME-2, ...); disk 1 is also
   * `volume`, `path`, `format` and `virtualSize`. Each is recorded as soon as it is uploaded.
   */
  disks?: BoxDiskStatus[];
}

/** What a catalog source (USER/NAME or a metadata URL) resolved to. */
export interface BoxVersionStatus {
  /** The version chosen: the newest matching spec.version with a libvirt provider for this host. */
  version: string;
  /** The .box URL of its libvirt provider, or the directory of a box already in $VAGRANT_HOME. */
  url: string;
  /** The catalog's checksum ("sha256:<hex>", "sha512:<hex>", ...), when it gives one. */
  checksum?: string;
  /** Where it came from: the metadata URL, or "vagrant-home". */
  from: string;
  /** spec.source and spec.version it was resolved for: a change of either resolves again. */
  source: string;
  constraint?: string;
}

/** One uploaded disk of a Box. */
export interface BoxDiskStatus {
  /** Name of its base volume in the pool. */
  volume: string;
  /** Host path of the base volume. */
  path: string;
  format: "qcow2" | "raw";
  /** Virtual size in bytes. */
  virtualSize: number;
}

export type Box = Resource<"Box", BoxSpec, BoxStatus>;

// ---------------------------------------------------------------- Volume

export interface VolumeSpec {
  /** The lv context (libvirt host) this lives on; set by lv apply from the selected context. */
  context?: string;
  /** Storage pool. Default "default" (created as a dir pool under /var/lib/libvirt/images if missing). */
  pool: string;
  /** Capacity in bytes. Required for blank volumes; for overlays defaults to the box's virtual size. */
  size?: number;
  /** Default qcow2. */
  format: "qcow2" | "raw";
  /** Name of a Box: the volume is a copy-on-write qcow2 overlay on it. */
  backingBox?: string;
  /** Which disk of a multi-disk backing Box the overlay is on: 1 (the first, the default), 2, ... */
  backingBoxDisk?: number;
}

export interface VolumeStatus extends Status {
  /** Name of the libvirt volume, once created. */
  volume?: string;
  /** Name of a volume lv is creating (recorded before vol-create, so a crash leaves no unknown volume). */
  pendingVolume?: string;
  path?: string;
  capacity?: number;
  backingStore?: string;
}

export type Volume = Resource<"Volume", VolumeSpec, VolumeStatus>;

// ---------------------------------------------------------------- Network

export type NetworkMode = "nat" | "route" | "isolated";

export interface DhcpHost {
  mac: string;
  ip: string;
  name?: string;
}

export interface NetworkSpec {
  /** The lv context (libvirt host) this lives on; set by lv apply from the selected context. */
  context?: string;
  mode: NetworkMode;
  /** Name of the bridge device; libvirt picks one (virbrN) when absent. */
  bridge?: string;
  ipv4: { address: string; prefix: number };
  dhcp: { enabled: boolean; range?: { start: string; end: string }; hosts: DhcpHost[] };
  /** Host device to forward through (nat/route). */
  forwardDevice?: string;
  /** Network domain name for DNS. */
  domainName?: string;
  autostart: boolean;
}

export interface NetworkStatus extends Status {
  bridge?: string;
  active?: boolean;
  /** DHCP reservations lv made for Domains' static ips: "mac=ip". */
  reservations?: string[];
}

export type Network = Resource<"Network", NetworkSpec, NetworkStatus>;

// ---------------------------------------------------------------- Domain

export type DomainDriver = "kvm" | "qemu";
export type DomainState = "Running" | "Stopped" | "Paused";
export type DiskCache = "default" | "none" | "writethrough" | "writeback" | "directsync" | "unsafe";
export type MacvtapMode = "bridge" | "vepa" | "private" | "passthrough";

export type DiskIo = "native" | "threads" | "io_uring";
export type DiskDiscard = "unmap" | "ignore";
export type DiskDetectZeroes = "off" | "on" | "unmap";

export interface DomainDisk {
  /** Name of a Volume resource. */
  volume: string;
  /** Guest device name, e.g. vda. Defaults to vda, vdb, ... in order. */
  device?: string;
  bus: "virtio" | "sata" | "scsi" | "ide";
  cache?: DiskCache;
  /** I/O mode (libvirt driver io). Default: the hypervisor's. */
  io?: DiskIo;
  /** Discard (TRIM) requests: unmap passes them to the image. Default: the hypervisor's (ignore). */
  discard?: DiskDiscard;
  /** Detect writes of zeroes. Default: the hypervisor's (off). */
  detectZeroes?: DiskDetectZeroes;
  /** Serial number the guest sees. */
  serial?: string;
}

export interface DomainInterface {
  /**
   * Name of a Network resource in the Domain's namespace (lv manages it); a name that is no Network is refused
   * by validation: a libvirt network lv did not make is a libvirtNetwork.
   */
  network?: string;
  /** Name of an existing libvirt network lv does not manage (never defined, changed, started or deleted by lv). */
  libvirtNetwork?: string;
  /** An existing host bridge: `<interface type='bridge'>`. */
  bridge?: string;
  /** Public (macvtap) interface: host device to attach to. */
  dev?: string;
  /** macvtap mode, default bridge. */
  mode?: MacvtapMode;
  mac?: string;
  /** Static IPv4 for this interface (a DHCP reservation, or configured in the guest). */
  ip?: string;
  /** Prefix length for a static ip without DHCP. Default: the network's. */
  prefix?: number;
  /** NIC model, default virtio (vagrant-libvirt nic_model_type). */
  model: string;
  /** The virtual link: down unplugs the cable (libvirt `<link state>`). Default up. Applied live. */
  linkState?: InterfaceLinkState;
}

export type InterfaceLinkState = "up" | "down";

export interface DomainSsh {
  user: string;
  port: number;
  privateKey?: string;
  /** Replace the login key with one lv generates for this domain at first contact (vagrant's insert_key). */
  insertKey: boolean;
  forwardAgent: boolean;
  forwardX11: boolean;
}

export interface DomainSpec {
  /** The lv context (libvirt host) this lives on; set by lv apply from the selected context. */
  context?: string;
  /** Shortcut: an owned copy-on-write Volume "<name>" backed by this Box becomes the first disk. */
  box?: string;
  /** Domain type. Absent: kvm where the host offers it, else qemu (TCG); status.driver shows the choice. */
  driver?: DomainDriver;
  cpus: number;
  /** vCPUs the domain can grow to while running (setvcpus --live). Default: cpus. */
  maxVcpus?: number;
  /** MiB. */
  memory: number;
  /** MiB the domain can balloon up to while running (setmem --live). Default: memory. */
  maxMemory?: number;
  nested: boolean;
  /** Cache mode for disks that do not name their own. */
  volumeCache: DiskCache;
  disks: DomainDisk[];
  interfaces: DomainInterface[];
  hostname?: string;
  ssh: DomainSsh;
  provision: Provisioner[];
  syncedFolders: SyncedFolder[];
  state: DomainState;
  /** Storage pool for the box overlay. Default "default". */
  storagePoolName: string;
  /** Size of the box overlay in bytes; default the box's virtual size. */
  machineVirtualSize?: number;
  /** Name of the libvirt network for the management interface (vagrant's management network). */
  managementNetwork?: string;
  /** "ssh" (default): lv waits for SSH and sets the guest up; "none": no guest OS to talk to. */
  communicator?: "ssh" | "none";
  /** Seconds a guest gets to shut down on ACPI before it is powered off (vagrant's graceful_halt_timeout). Default 60. */
  gracefulHaltTimeout?: number;
  // Machine and devices (issue 14). Validation fills the defaults in; they are optional here so that objects
  // stored before these fields existed, and objects lv builds itself, still type-check and render as before.
  /** Machine type: pc, q35 or a versioned name (pc-q35-7.2). Default pc. */
  machineType?: string;
  /** Default bios. */
  firmware?: Firmware;
  /** UEFI secure boot (firmware efi, q35). Default false. */
  secureBoot?: boolean;
  cpu?: DomainCpu;
  /** Boot devices in order. Default hd (and network for a domain without disks). */
  bootOrder?: BootDevice[];
  memoryBacking?: DomainMemoryBacking;
  /** Default none (headless). */
  graphics?: DomainGraphics;
  video?: DomainVideo;
  cdroms?: DomainCdrom[];
  tpm?: DomainTpm;
  /** Default enabled, /dev/urandom. */
  rng?: DomainRng;
  watchdog?: DomainWatchdog;
  inputs?: DomainInput[];
  hostDevices?: DomainHostDevice[];
  /** Boot a cloud image: lv attaches a cloud-init NoCloud seed it builds; `{}` means lv's defaults. */
  cloudInit?: DomainCloudInit;
}

export interface DomainInterfaceStatus {
  mac: string;
  /** The libvirt network (lv's or not). */
  network?: string;
  /** The host bridge. */
  bridge?: string;
  ips: { address: string; source: "lease" | "arp" | "agent" | "static" }[];
}

export interface DomainStatus extends Status {
  driver?: DomainDriver;
  /** libvirt's view: running, shut off, paused, ... */
  state?: string;
  stateReason?: string;
  interfaces?: DomainInterfaceStatus[];
  ip?: string;
  /** When lv asked the guest to shut down (ACPI); it is powered off after the grace period. */
  shutdownRequestedAt?: string;
  /** The last lv reload request carried out. */
  restartRequest?: string;
  /** The guest's SSH host key, pinned at first contact ("ssh-ed25519 AAAA..."). */
  sshHostKey?: string;
  /** The private key lv generated and installed for this domain (ssh.insertKey). */
  sshKey?: string;
  /** The cloud-init seed volume uploaded whole (spec.cloudInit), in storagePoolName, and its instance-id. */
  cloudInitSeed?: { volume: string; instanceId: string };
  /** What lv has done inside the guest (see src/controller/guest.ts). */
  guest?: Record<string, unknown>;
  /** The display of a running domain (port chosen by libvirt when auto); never the password. */
  graphics?: { type: string; listen?: string; port?: number };
}

export type Domain = Resource<"Domain", DomainSpec, DomainStatus>;

export type AnyResource = Box | Volume | Network | Domain;

export type SpecOf<K extends Kind> = K extends "Box" ? BoxSpec
  : K extends "Volume" ? VolumeSpec
  : K extends "Network" ? NetworkSpec
  : DomainSpec;
