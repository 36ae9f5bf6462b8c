/** The machine and device options of a Domain (vagrant-libvirt machine_type, cpu_mode, graphics_type, ...). */

export type Firmware = "bios" | "efi";
export type CpuMode = "host-passthrough" | "host-model" | "custom";
export type CpuFeaturePolicy = "force" | "require" | "optional" | "disable" | "forbid";
export type BootDevice = "hd" | "cdrom" | "network";

export interface DomainCpuFeature {
  name: string;
  policy: CpuFeaturePolicy;
}

/** CPU model and topology (vagrant-libvirt cpu_mode, cpu_model, cpu_topology, cpu_feature). */
export interface DomainCpu {
  /** Absent: host-model on kvm (host-passthrough with nested), qemu64 (custom) on qemu. */
  mode?: CpuMode;
  /** CPU model for mode custom, e.g. qemu64, Skylake-Client. */
  model?: string;
  sockets?: number;
  cores?: number;
  threads?: number;
  features?: DomainCpuFeature[];
}

/** Memory backing (vagrant-libvirt memorybacking): shared memory for virtiofs. */
export interface DomainMemoryBacking {
  access?: "shared" | "private";
  /** Default memfd when access is shared. */
  source?: "memfd" | "file" | "anonymous";
}

export type GraphicsType = "vnc" | "spice" | "none";

export interface DomainGraphics {
  type: GraphicsType;
  /** Address the display listens on. Default 127.0.0.1. */
  listen: string;
  /** Fixed port; absent: libvirt picks a free one (autoport). */
  port?: number;
  /** Host file holding the display password; read when the domain is defined, never stored. */
  passwordFile?: string;
}

export type VideoModel = "vga" | "cirrus" | "virtio" | "qxl" | "bochs" | "ramfb" | "none";

export interface DomainVideo {
  /** Default: cirrus (vagrant-libvirt video_type) when graphics is on, else no video. */
  model?: VideoModel;
  /** Video memory in KiB (vga, cirrus, qxl). Default 16384 (vagrant-libvirt video_vram). */
  vram?: number;
}

/** A read-only CD-ROM: an ISO file on the libvirt host or a Volume. */
export interface DomainCdrom {
  path?: string;
  volume?: string;
  bus: "sata" | "ide" | "scsi";
  /** Guest device name; default the next free name for the bus (sda, sdb, ... after the disks). */
  device?: string;
}

export interface DomainTpm {
  model: "tpm-tis" | "tpm-crb";
  version: "2.0" | "1.2";
}

export interface DomainRng {
  enabled: boolean;
  /** Host entropy source. */
  backend: "/dev/urandom" | "/dev/random";
}

export interface DomainWatchdog {
  model: "i6300esb" | "ib700" | "itco";
  action: "reset" | "shutdown" | "poweroff" | "pause" | "none" | "dump" | "inject-nmi";
}

export interface DomainInput {
  type: "mouse" | "tablet" | "keyboard";
  bus: "usb" | "ps2" | "virtio";
}

/** A host device passed through: USB by vendor/product, or PCI by address. */
export interface DomainHostDevice {
  type: "usb" | "pci";
  /** USB vendor id, 0x1234. */
  vendor?: string;
  /** USB product id, 0x5678. */
  product?: string;
  /** PCI address domain:bus:slot.function, e.g. 0000:03:00.0. */
  address?: string;
}
