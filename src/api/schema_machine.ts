/**
 * Field table rows for a Domain's machine and devices (machine type, firmware, CPU, boot order, memory
 * backing, display, CD-ROMs, TPM, RNG, watchdog, inputs, host devices), extra disk options and the
 * interfaces on networks lv does not own. `schema.ts` puts them into the Domain's table.
 *
 * @module
 */

import {
  DEFAULT_CDROM_BUS,
  DEFAULT_FIRMWARE,
  DEFAULT_GRAPHICS_LISTEN,
  DEFAULT_GRAPHICS_TYPE,
  DEFAULT_INPUT_BUS,
  DEFAULT_MACHINE_TYPE,
  DEFAULT_RNG_BACKEND,
  DEFAULT_TPM_MODEL,
  DEFAULT_TPM_VERSION,
  DEFAULT_VIDEO_MODEL,
  DEFAULT_VIDEO_VRAM_KIB,
  DEFAULT_WATCHDOG_ACTION,
  DEFAULT_WATCHDOG_MODEL,
} from "./defaults.ts";
import { bool, type FieldsOf, int, list, obj, oneOf, str } from "./field_types.ts";
import type {
  BootDevice,
  CpuFeaturePolicy,
  CpuMode,
  DiskDetectZeroes,
  DiskDiscard,
  DiskIo,
  DomainCdrom,
  DomainCpu,
  DomainCpuFeature,
  DomainDisk,
  DomainGraphics,
  DomainHostDevice,
  DomainInput,
  DomainInterface,
  DomainMemoryBacking,
  DomainRng,
  DomainSpec,
  DomainTpm,
  DomainVideo,
  DomainWatchdog,
  Firmware,
  GraphicsType,
  VideoModel,
} from "./types.ts";

/** Most CPU sockets, cores or threads. */
const TOPOLOGY_MAX = 512;

const CPU_FEATURE = obj<DomainCpuFeature>("A CPU feature and what to do with it.", {
  name: str("Feature name as libvirt knows it (virsh cpu-models / domcapabilities), e.g. vmx, avx2.", {
    required: true,
    format: "cpu-feature",
    defaultText: "none: required",
    vagrant: "cpu_feature :name",
  }),
  policy: oneOf(
    "force, require, optional, disable or forbid (libvirt's feature policy).",
    ["force", "require", "optional", "disable", "forbid"] as const satisfies readonly CpuFeaturePolicy[],
    { default: "require", vagrant: "cpu_feature policy" },
  ),
});

const CPU = obj<DomainCpu>(
  "The guest CPU: mode, model, topology and features. Checked against the host's `virsh domcapabilities` when the domain is defined.",
  {
    mode: oneOf(
      "host-passthrough (the host CPU as it is), host-model (the closest named model with the host's features) or custom (model).",
      ["host-passthrough", "host-model", "custom"] as const satisfies readonly CpuMode[],
      {
        defaultText:
          "host-model on kvm (host-passthrough with nested), custom qemu64 on qemu (TCG); custom when model is given",
        vagrant: "cpu_mode",
      },
    ),
    model: str("CPU model for mode custom, e.g. qemu64, Skylake-Client, EPYC.", {
      format: "cpu-model",
      defaultText: "qemu64 for custom",
      vagrant: "cpu_model",
    }),
    sockets: int("CPU sockets; sockets × cores × threads must equal cpus.", 1, TOPOLOGY_MAX, {
      defaultText: "1 when cores or threads are given",
      vagrant: "cpu_topology sockets",
    }),
    cores: int("Cores per socket.", 1, TOPOLOGY_MAX, {
      defaultText: "1 when sockets or threads are given",
      vagrant: "cpu_topology cores",
    }),
    threads: int("Threads per core.", 1, TOPOLOGY_MAX, {
      defaultText: "1 when sockets or cores are given",
      vagrant: "cpu_topology threads",
    }),
    features: list("CPU features to require or disable; names unique.", CPU_FEATURE, {
      vagrant: "cpu_feature",
    }),
  },
  { default: {}, defaultText: "as mode says", vagrant: "cpu_mode, cpu_model, cpu_topology, cpu_feature" },
);

const MEMORY_BACKING = obj<DomainMemoryBacking>(
  "How guest memory is backed. virtiofs needs access: shared.",
  {
    access: oneOf(
      "shared (other processes such as virtiofsd may map it) or private.",
      [
        "shared",
        "private",
      ] as const,
      { defaultText: "the hypervisor's (private)", vagrant: "memorybacking :access" },
    ),
    source: oneOf("Where the memory comes from.", ["memfd", "file", "anonymous"] as const, {
      defaultText: "memfd when access is shared",
      vagrant: "memorybacking :source",
    }),
  },
  { defaultText: "none: the hypervisor's private memory", vagrant: "memorybacking" },
);

const GRAPHICS = obj<DomainGraphics>(
  "The display: vnc or spice, or none (headless; `lv console` and `lv logs` give the serial console). The port libvirt picks shows in status.graphics and `lv get -o wide`.",
  {
    type: oneOf("vnc, spice or none.", ["vnc", "spice", "none"] as const satisfies readonly GraphicsType[], {
      default: DEFAULT_GRAPHICS_TYPE,
      vagrant: "graphics_type (vagrant-libvirt's default is vnc)",
    }),
    listen: str("Address the display listens on.", {
      format: "ipv4",
      default: DEFAULT_GRAPHICS_LISTEN,
      vagrant: "graphics_ip",
    }),
    port: int("Fixed port; libvirt picks a free one from 5900 up when absent.", 5900, 65535, {
      defaultText: "auto (graphics_autoport)",
      vagrant: "graphics_port",
    }),
    passwordFile: str(
      "File on the host running lv that holds the display password (its first line). lv reads it when it defines the domain; the password itself is never in the spec, status, events or output.",
      { format: "host-path", defaultText: "no password", vagrant: "graphics_passwd (as a file)" },
    ),
  },
  {
    default: {},
    defaultText: "headless (type none)",
    vagrant: "graphics_type, graphics_ip, graphics_port, graphics_passwd",
  },
);

const VIDEO = obj<DomainVideo>("The video card, when there is a display.", {
  model: oneOf(
    "Video model.",
    ["vga", "cirrus", "virtio", "qxl", "bochs", "ramfb", "none"] as const satisfies readonly VideoModel[],
    { defaultText: `${DEFAULT_VIDEO_MODEL} when graphics is on, else no video`, vagrant: "video_type" },
  ),
  vram: int("Video memory in KiB (vga, cirrus, qxl).", 1024, 1048576, {
    defaultText: String(DEFAULT_VIDEO_VRAM_KIB),
    vagrant: "video_vram",
  }),
}, {
  defaultText: `${DEFAULT_VIDEO_MODEL} when graphics is on, else none`,
  vagrant: "video_type, video_vram",
});

const CDROM = obj<DomainCdrom>(
  "A read-only CD-ROM: an ISO file on the libvirt host, or a Volume. Give exactly one of path and volume.",
  {
    path: str("Absolute path of an ISO file on the libvirt host; must be a file.", {
      format: "host-file",
      defaultText: "none; exactly one of path and volume",
      vagrant: "storage :file, device: :cdrom, path",
    }),
    volume: str("Name of a Volume in the same namespace holding the image.", {
      format: "name",
      defaultText: "none; exactly one of path and volume",
      vagrant: "(none: vagrant-libvirt takes a path only)",
    }),
    bus: oneOf("Bus: sata (pc and q35), ide (pc only) or scsi.", ["sata", "ide", "scsi"] as const, {
      default: DEFAULT_CDROM_BUS,
      vagrant: "bus",
    }),
    device: str("Guest device name; unique among disks and CD-ROMs.", {
      format: "disk-device",
      defaultText: "the next free name for the bus after the disks (sda, sdb, … ; hda, hdb, … for ide)",
      vagrant: "dev",
    }),
  },
  { exactlyOne: [["path", "volume"]] },
);

const TPM = obj<DomainTpm>(
  "An emulated TPM (swtpm on the libvirt host); its state is removed with the domain.",
  {
    model: oneOf("TPM interface.", ["tpm-tis", "tpm-crb"] as const, {
      default: DEFAULT_TPM_MODEL,
      vagrant: "tpm_model",
    }),
    version: oneOf("TPM version.", ["2.0", "1.2"] as const, {
      default: DEFAULT_TPM_VERSION,
      vagrant: "tpm_version",
    }),
  },
  { defaultText: "none: no TPM", vagrant: "tpm_type 'emulator', tpm_model, tpm_version" },
);

const RNG = obj<DomainRng>("A virtio-rng device feeding the guest entropy from the host.", {
  enabled: bool("Add the device.", { default: true, vagrant: "random" }),
  backend: oneOf("Host entropy source.", ["/dev/urandom", "/dev/random"] as const, {
    default: DEFAULT_RNG_BACKEND,
    vagrant: "random :model",
  }),
}, { default: {}, defaultText: "on, from /dev/urandom (as vagrant-libvirt)", vagrant: "random" });

const WATCHDOG = obj<DomainWatchdog>("A watchdog device and what happens when the guest stops feeding it.", {
  model: oneOf("Watchdog model (itco on q35 only).", ["i6300esb", "ib700", "itco"] as const, {
    default: DEFAULT_WATCHDOG_MODEL,
    vagrant: "watchdog :model",
  }),
  action: oneOf(
    "What libvirt does when it fires.",
    ["reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"] as const,
    { default: DEFAULT_WATCHDOG_ACTION, vagrant: "watchdog :action" },
  ),
}, { defaultText: "none: no watchdog", vagrant: "watchdog" });

const INPUT = obj<DomainInput>("An input device.", {
  type: oneOf("mouse, tablet (absolute pointer) or keyboard.", ["mouse", "tablet", "keyboard"] as const, {
    required: true,
    defaultText: "none: required",
    vagrant: "input :type",
  }),
  bus: oneOf("Bus (ps2 for mouse and keyboard only).", ["usb", "ps2", "virtio"] as const, {
    default: DEFAULT_INPUT_BUS,
    vagrant: "input :bus",
  }),
});

const HOST_DEVICE = obj<DomainHostDevice>(
  "A host device passed through: usb with vendor and product, or pci with address. The domain is defined only when the host has it.",
  {
    type: oneOf("usb or pci.", ["usb", "pci"] as const, {
      required: true,
      defaultText: "none: required",
      vagrant: "usb or pci (which option)",
    }),
    vendor: str("USB vendor id (lsusb), e.g. 0x1d6b.", {
      format: "usb-id",
      defaultText: "none: required for usb",
      vagrant: "usb :vendor",
    }),
    product: str("USB product id (lsusb), e.g. 0x0002.", {
      format: "usb-id",
      defaultText: "none: required for usb",
      vagrant: "usb :product",
    }),
    address: str("PCI address (lspci -D), e.g. 0000:03:00.0.", {
      format: "pci-address",
      defaultText: "none: required for pci",
      vagrant: "pci :domain, :bus, :slot, :function",
    }),
  },
);

/** Machine and device fields of a Domain's spec. */
export const DOMAIN_MACHINE_FIELDS: Pick<
  FieldsOf<DomainSpec>,
  | "machineType"
  | "firmware"
  | "secureBoot"
  | "cpu"
  | "bootOrder"
  | "memoryBacking"
  | "graphics"
  | "video"
  | "cdroms"
  | "tpm"
  | "rng"
  | "watchdog"
  | "inputs"
  | "hostDevices"
> = {
  machineType: str("Machine type: pc (i440fx), q35, or a versioned name such as pc-q35-7.2.", {
    format: "machine-type",
    default: DEFAULT_MACHINE_TYPE,
    vagrant: "machine_type",
  }),
  firmware: oneOf(
    "bios (SeaBIOS) or efi (OVMF: libvirt copies a per-domain NVRAM from the firmware's template, removed with the domain).",
    ["bios", "efi"] as const satisfies readonly Firmware[],
    { default: DEFAULT_FIRMWARE, vagrant: "loader / nvram" },
  ),
  secureBoot: bool("UEFI secure boot; needs firmware efi and a q35 machine type.", {
    default: false,
    vagrant: "(loader with a secure-boot OVMF)",
  }),
  cpu: CPU,
  bootOrder: list(
    "Boot devices in order: hd, cdrom, network; each at most once.",
    oneOf("A boot device.", ["hd", "cdrom", "network"] as const satisfies readonly BootDevice[]),
    { defaultText: "hd, then network for a domain without disks", vagrant: "boot", maxItems: 3 },
  ),
  memoryBacking: MEMORY_BACKING,
  graphics: GRAPHICS,
  video: VIDEO,
  cdroms: list("Read-only CD-ROMs, after the disks.", CDROM, { vagrant: "storage :file, device: :cdrom" }),
  tpm: TPM,
  rng: RNG,
  watchdog: WATCHDOG,
  inputs: list("Input devices (libvirt adds a PS/2 mouse and keyboard itself).", INPUT, { vagrant: "input" }),
  hostDevices: list("Host USB and PCI devices passed through to the guest.", HOST_DEVICE, {
    vagrant: "usb, pci",
  }),
};

/** Per-disk options beyond volume, device, bus and cache. */
export const DISK_OPTION_FIELDS: Pick<FieldsOf<DomainDisk>, "io" | "discard" | "detectZeroes" | "serial"> = {
  io: oneOf("I/O mode.", ["native", "threads", "io_uring"] as const satisfies readonly DiskIo[], {
    defaultText: "the hypervisor's",
    vagrant: "io",
  }),
  discard: oneOf(
    "What happens to discard (TRIM) requests: unmap frees the space in the image.",
    ["unmap", "ignore"] as const satisfies readonly DiskDiscard[],
    { defaultText: "the hypervisor's (ignore)", vagrant: "discard" },
  ),
  detectZeroes: oneOf(
    "Detect writes of zeroes (unmap needs discard: unmap).",
    ["off", "on", "unmap"] as const satisfies readonly DiskDetectZeroes[],
    { defaultText: "the hypervisor's (off)", vagrant: "detect_zeroes" },
  ),
  serial: str("Serial number the guest sees (/dev/disk/by-id).", {
    format: "disk-serial",
    defaultText: "none",
    vagrant: "serial",
  }),
};

/** Interfaces on networks lv does not own. */
export const UNOWNED_INTERFACE_FIELDS: Pick<FieldsOf<DomainInterface>, "libvirtNetwork" | "bridge"> = {
  libvirtNetwork: str(
    "Name of an existing libvirt network lv does not manage (e.g. default): lv attaches to it and never defines, changes, starts or deletes it. A static ip is configured in the guest, not in that network's DHCP.",
    {
      format: "libvirt-name",
      defaultText: "none; one of network, libvirtNetwork, bridge and dev",
      vagrant: "libvirt__network_name (an existing network)",
    },
  ),
  bridge: str(
    "An existing host bridge (e.g. br0) to attach to; lv never creates or changes it. A static ip is configured in the guest.",
    {
      format: "ifname",
      defaultText: "none; one of network, libvirtNetwork, bridge and dev",
      vagrant: "dev with type: bridge (public_network)",
    },
  ),
};
