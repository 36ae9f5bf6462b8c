/**
 * The field table: every field of every kind, with its type, rules, default
 * and description. One table drives three things so they cannot drift:
 * the validator (`validate.ts` walks it), the JSON Schema ({@linkcode jsonSchema})
 * and `lv explain` ({@linkcode explain}).
 *
 * The table is checked against `types.ts` at compile time: each object's
 * fields are written as `{ [K in keyof T]-?: Field }`, so a field added to or
 * removed from a type without a row here does not compile.
 *
 * @module
 */

import {
  DEFAULT_AUTOSTART,
  DEFAULT_CPUS,
  DEFAULT_DHCP_ENABLED,
  DEFAULT_DISK_BUS,
  DEFAULT_MEMORY_MIB,
  DEFAULT_NAMESPACE,
  DEFAULT_NESTED,
  DEFAULT_NETWORK_MODE,
  DEFAULT_NIC_MODEL,
  DEFAULT_POOL,
  DEFAULT_PREFIX,
  DEFAULT_SSH_PORT,
  DEFAULT_SSH_USER,
  DEFAULT_STATE,
  DEFAULT_SYNCED_FOLDER_TYPE,
  DEFAULT_VOLUME_CACHE,
  DEFAULT_VOLUME_FORMAT,
} from "./defaults.ts";
import { changeClassOf, changeClassText } from "./change_class.ts";
import { bool, type Field, int, list, obj, type ObjectField, oneOf, str, UNIT_BYTES } from "./field_types.ts";
import { LIST_KEYS } from "./list_keys.ts";
import { closest } from "./problem.ts";
import { DISK_OPTION_FIELDS, DOMAIN_MACHINE_FIELDS, UNOWNED_INTERFACE_FIELDS } from "./schema_machine.ts";
import { FORWARDED_PORTS } from "./schema_forwarded_ports.ts";
import { PROVISIONER } from "./schema_provision.ts";
import { MiB, QUANTITY_PATTERN, TiB } from "./quantity.ts";
import {
  API_VERSION,
  type BoxSpec,
  type DhcpHost,
  type DiskCache,
  type DomainCloudInit,
  type DomainDisk,
  type DomainDriver,
  type DomainInterface,
  type DomainSpec,
  type DomainSsh,
  type DomainState,
  type FolderAccessMode,
  type InterfaceLinkState,
  type Kind,
  KINDS,
  type MacvtapMode,
  type NetworkMode,
  type NetworkSpec,
  type ObjectMeta,
  type SyncedFolder,
  type VolumeSpec,
} from "./types.ts";
import { FORMATS } from "./validate_format.ts";

export type { StringFormat } from "./validate_format.ts";
export * from "./field_types.ts";

// ---------------------------------------------------------------- limits

/** Domain.memory bounds in bytes. */
export const MEMORY_MIN = 16 * MiB;
export const MEMORY_MAX = 16 * TiB;
/** Volume.size and Domain.machineVirtualSize upper bound in bytes. */
export const SIZE_MAX = 64 * TiB;
export const CPUS_MAX = 512;

// ---------------------------------------------------------------- metadata

const managed = (description: string, value: unknown, shownType: string): Field => ({
  type: "any",
  description: `${description} Set by lv; ignored on input.`,
  default: value,
  managed: true,
  shownType,
});

/** metadata, shared by all kinds. */
export const METADATA: ObjectField = obj<ObjectMeta>(
  "Standard object metadata. Only name, namespace, labels and annotations are set by users; the rest is managed by lv and ignored on input, so the output of `lv get -o yaml` can be applied again.",
  {
    name: str(
      "Name of the object, unique per kind and namespace. The libvirt object is named after it, so `virsh list` reads naturally.",
      { required: true, format: "name" },
    ),
    namespace: str(
      "Namespace of the object: a group of names. References between objects stay within a namespace.",
      {
        format: "name",
        default: DEFAULT_NAMESPACE,
      },
    ),
    labels: {
      type: "map",
      description:
        "Labels for selecting objects (`lv get -l app=web`), with Kubernetes syntax for keys and values.",
      keys: "label-key",
      values: str("Label value.", { format: "label-value", allowEmpty: true }),
      default: {},
    },
    annotations: {
      type: "map",
      description:
        "Free-form string data for tools and people; keys have label key syntax. lv itself reads lv.dev/* annotations (e.g. lv.dev/restartedAt set by `lv reload`).",
      keys: "label-key",
      values: str("Annotation value (any text).", { multiline: true, allowEmpty: true, maxLength: 262144 }),
      default: {},
    },
    uid: managed("Unique identifier of this object, assigned when it is created.", "", "string"),
    generation: managed("Sequence number of the desired state; bumps on every spec change.", 0, "integer"),
    resourceVersion: managed("Version of the stored object, used for optimistic concurrency.", "", "string"),
    creationTimestamp: managed("When the object was created (RFC 3339).", "", "string"),
    deletionTimestamp: managed(
      "When deletion was requested; the object goes away once its finalizers are done.",
      undefined,
      "string",
    ),
    finalizers: managed("Cleanup that must finish before the object is removed.", [], "[]string"),
    ownerReferences: managed(
      "Objects that own this one; deleting an owner deletes what it owns.",
      [],
      "[]Object",
    ),
  },
  { required: true },
);

/** spec.context, on every kind: which configured libvirt host the object lives on. */
const CONTEXT = str(
  "Name of the lv context (a libvirt host in the lv config file, see `lv config get-contexts`) the object lives on. lv apply sets it to the selected context when absent; it cannot change once created.",
  { format: "libvirt-name" },
);

// ---------------------------------------------------------------- Box

const BOX_SPEC = obj<BoxSpec>(
  "Desired state of a Box: a base image uploaded once into a storage pool and shared read-only.",
  {
    source: str(
      "Where the image comes from: a Vagrant catalog name USER/NAME (as in config.vm.box, e.g. generic/debian12: looked up at $LV_BOX_SERVER_URL, else the config file's boxServerUrl, else Vagrant's public catalog; a matching box already in $VAGRANT_HOME/boxes is used without a download), the http(s) URL of a box metadata JSON file (a self-hosted catalog: a path ending in .json, or any http(s) URL given with a version), a local path or an http(s) URL of a qcow2 or raw image, or of a Vagrant libvirt .box (a tar archive, plain or gzip/bzip2/xz-compressed, holding box.img and metadata.json).",
      { required: true, format: "box-source" },
    ),
    version: str(
      'Vagrant version constraint (Vagrant\'s config.vm.box_version) for a catalog source: "1.2.3", ">= 4.0, < 5.0", "~> 4.3" (RubyGems\' meaning: ~> 4.3 is >= 4.3, < 5.0; ~> 4.3.1 is >= 4.3.1, < 4.4). The newest matching version with a libvirt provider for this host\'s architecture is chosen and kept in status.version until source or version changes (lv box update moves to a newer one).',
      { format: "version-constraint", defaultText: "the newest version" },
    ),
    checksum: str(
      'sha256 of the source file, as "sha256:<64 hex digits>" or the bare 64 hex digits. When given, the download or file is verified before upload.',
      { format: "checksum" },
    ),
    pool: str("Storage pool the base volume is uploaded to.", {
      format: "libvirt-name",
      default: DEFAULT_POOL,
      vagrant: "storage_pool_name",
    }),
    context: CONTEXT,
  },
);

// ---------------------------------------------------------------- Volume

/** Most disks a box may have (Volume.backingBoxDisk upper bound). */
export const BOX_DISKS_MAX = 26;

const VOLUME_SPEC = obj<VolumeSpec>(
  "Desired state of a Volume: one volume in a storage pool, blank or a copy-on-write overlay on a Box.",
  {
    pool: str(
      'Storage pool. "default" is created as a directory pool under /var/lib/libvirt/images when missing.',
      {
        format: "libvirt-name",
        default: DEFAULT_POOL,
      },
    ),
    size: {
      type: "quantity",
      description:
        "Capacity: a number of bytes or a quantity such as 20Gi. Required for a blank volume; for an overlay, defaults to the box's virtual size (and may only grow it).",
      plainUnit: "bytes",
      unit: "bytes",
      minimum: 1,
      maximum: SIZE_MAX,
      defaultText: "the box's virtual size (overlays); required for blank volumes",
    },
    format: oneOf(
      "Image format. An overlay on a box is always qcow2.",
      ["qcow2", "raw"] as const satisfies readonly VolumeSpec["format"][],
      {
        default: DEFAULT_VOLUME_FORMAT,
      },
    ),
    backingBox: str(
      "Name of a Box in the same namespace: the volume becomes a copy-on-write qcow2 overlay on it.",
      { format: "name" },
    ),
    backingBoxDisk: int(
      "Which disk of the backing Box the overlay is on, for a Vagrant box with several disks (metadata.json disks[]): 1 is the first.",
      1,
      BOX_DISKS_MAX,
      { defaultText: "1 (the box's first disk)" },
    ),
    context: CONTEXT,
  },
);

// ---------------------------------------------------------------- Network

const NETWORK_MODES = ["nat", "route", "isolated"] as const satisfies readonly NetworkMode[];

const DHCP_HOST = obj<DhcpHost>("A fixed address for one MAC.", {
  mac: str("MAC address of the guest interface.", { required: true, format: "mac" }),
  ip: str("Address handed to that MAC; inside the network's subnet.", { required: true, format: "ipv4" }),
  name: str("Host name handed out with the address.", { format: "hostname" }),
});

const NETWORK_SPEC = obj<NetworkSpec>(
  "Desired state of a Network: a libvirt virtual network (defined, started, autostarted).",
  {
    mode: oneOf(
      "How guests reach the outside: nat (masqueraded through the host), route (routed, no NAT), isolated (guests and host only).",
      NETWORK_MODES,
      { default: DEFAULT_NETWORK_MODE, vagrant: "libvirt__forward_mode" },
    ),
    bridge: str("Name of the host bridge device; libvirt picks virbrN when absent.", { format: "ifname" }),
    ipv4: obj<NetworkSpec["ipv4"]>(
      "The host's address on the network and the subnet size. Give the prefix length or, as vagrant-libvirt does, a netmask.",
      {
        address: str(
          "The host's address on the network (usually .1); not the subnet's network or broadcast address.",
          {
            required: true,
            format: "ipv4",
            vagrant: "libvirt__host_ip",
          },
        ),
        prefix: int("Prefix length of the subnet (24 is a /24, 255.255.255.0).", 1, 30, {
          default: DEFAULT_PREFIX,
        }),
      },
      {
        required: true,
        atMostOne: [["prefix", "netmask"]],
        extra: {
          netmask: str("The subnet as a netmask (255.255.255.0) instead of prefix; converted to prefix.", {
            format: "netmask",
            vagrant: "libvirt__netmask",
          }),
        },
      },
    ),
    dhcp: obj<NetworkSpec["dhcp"]>(
      "DHCP served by libvirt (dnsmasq) on this network.",
      {
        enabled: bool("Serve DHCP.", { default: DEFAULT_DHCP_ENABLED, vagrant: "libvirt__dhcp_enabled" }),
        range: obj<{ start: string; end: string }>(
          "Addresses handed out dynamically, inside the subnet.",
          {
            start: str("First address of the range.", {
              required: true,
              format: "ipv4",
              vagrant: "libvirt__dhcp_start",
            }),
            end: str("Last address of the range (not before start).", {
              required: true,
              format: "ipv4",
              vagrant: "libvirt__dhcp_stop",
            }),
          },
          {
            defaultText:
              "the subnet's network address + 2 to its broadcast address - 1 (.2 to .254 of a /24), when DHCP is enabled",
          },
        ),
        hosts: list(
          "Fixed addresses by MAC (DHCP reservations). MACs and addresses must be unique.",
          DHCP_HOST,
        ),
      },
      { default: {} },
    ),
    forwardDevice: str("Host device that nat or route traffic leaves through; any when absent.", {
      format: "ifname",
      vagrant: "libvirt__forward_device",
    }),
    domainName: str("DNS domain of the network; guests get <hostname>.<domainName>.", {
      format: "hostname",
      vagrant: "libvirt__domain_name",
    }),
    autostart: bool("Start the network when libvirtd starts.", { default: DEFAULT_AUTOSTART }),
    context: CONTEXT,
  },
);

// ---------------------------------------------------------------- Domain

const DISK_CACHES = [
  "default",
  "none",
  "writethrough",
  "writeback",
  "directsync",
  "unsafe",
] as const satisfies readonly DiskCache[];
const DISK_BUSES = ["virtio", "sata", "scsi", "ide"] as const satisfies readonly DomainDisk["bus"][];
const MACVTAP_MODES = ["bridge", "vepa", "private", "passthrough"] as const satisfies readonly MacvtapMode[];

const DISK = obj<DomainDisk>("An extra disk.", {
  volume: str("Name of a Volume in the same namespace.", { required: true, format: "name" }),
  device: str("Guest device name; unique within the domain.", {
    format: "disk-device",
    defaultText: "the next free name for the bus (vda, vdb, … for virtio; the box overlay takes vda)",
    vagrant: "device",
  }),
  bus: oneOf("Disk bus.", DISK_BUSES, { default: DEFAULT_DISK_BUS, vagrant: "bus" }),
  cache: oneOf("Cache mode of this disk.", DISK_CACHES, {
    defaultText: "the domain's volumeCache",
    vagrant: "cache",
  }),
  ...DISK_OPTION_FIELDS,
});

const INTERFACE = obj<DomainInterface>(
  "A network interface: on a Network lv manages (network), on an existing libvirt network (libvirtNetwork), on an existing host bridge (bridge), or a macvtap on a host device (dev). Give exactly one of them.",
  {
    network: str("Name of a Network in the same namespace (private network).", {
      format: "name",
      vagrant: "libvirt__network_name",
    }),
    ...UNOWNED_INTERFACE_FIELDS,
    dev: str("Host device for a public (macvtap) interface.", { format: "ifname", vagrant: "dev" }),
    mode: oneOf("macvtap mode of a public interface.", MACVTAP_MODES, {
      defaultText: "bridge, for public interfaces (dev); allowed only with dev",
      vagrant: "mode",
    }),
    mac: str("MAC address; unique within the domain. libvirt generates one when absent.", {
      format: "mac",
      vagrant: "mac",
    }),
    ip: str(
      "Static IPv4 address: a DHCP reservation on the network, or configured in the guest. Inside the network's subnet; unique within the domain.",
      { format: "ipv4", vagrant: "ip" },
    ),
    prefix: int("Prefix length for a static ip configured in the guest.", 1, 32, {
      defaultText: "the Network's prefix; 24 on a libvirtNetwork or bridge",
      vagrant: "netmask",
    }),
    model: str("NIC model.", { format: "nic-model", default: DEFAULT_NIC_MODEL, vagrant: "nic_model_type" }),
    linkState: oneOf(
      "The virtual link (libvirt `<link state>`): down is an unplugged cable. A running domain's link is set live (virsh domif-setlink) and kept in its definition.",
      ["up", "down"] as const satisfies readonly InterfaceLinkState[],
      { defaultText: "up" },
    ),
  },
  { exactlyOne: [["network", "dev", "libvirtNetwork", "bridge"]] },
);

const SSH = obj<DomainSsh>(
  "How lv reaches the guest over SSH (lv ssh, provisioning, synced folders, hostname setup).",
  {
    user: str("User to log in as.", { format: "user", default: DEFAULT_SSH_USER, vagrant: "ssh.username" }),
    port: int("SSH port in the guest.", 1, 65535, { default: DEFAULT_SSH_PORT, vagrant: "ssh.guest_port" }),
    privateKey: str("Path of the private key on the host; when absent, the key the box ships.", {
      format: "host-path",
      vagrant: "ssh.private_key_path",
    }),
    insertKey: bool(
      "At first contact, replace the key lv logged in with by a key lv generates for this domain (kept 0600 under $LV_HOME/keys), as vagrant does with its insecure key.",
      { default: true, vagrant: "ssh.insert_key" },
    ),
    forwardAgent: bool("Forward the SSH agent.", { default: false, vagrant: "ssh.forward_agent" }),
    forwardX11: bool("Forward X11.", { default: false, vagrant: "ssh.forward_x11" }),
  },
  { default: {} },
);

const SYNCED_FOLDER = obj<SyncedFolder>(
  "A host directory copied (rsync) or mounted (nfs, 9p, virtiofs) into the guest. 9p and virtiofs are devices of the domain's definition (local libvirt only; adding or changing one takes effect at the next boot), mounted by an fstab entry lv owns.",
  {
    source: str("Directory on the host.", { required: true, format: "host-path" }),
    target: str("Absolute path in the guest; unique within the domain.", {
      required: true,
      format: "guest-path",
    }),
    type: oneOf(
      "rsync: copied on up and `lv rsync`; nfs: mounted from the host; 9p: a virtio-9p device (the guest kernel needs 9p: Debian's generic kernel, not its cloud kernel); virtiofs: a virtio-fs device served by virtiofsd (shared memory backing is added).",
      ["rsync", "nfs", "9p", "virtiofs"] as const satisfies readonly SyncedFolder["type"][],
      {
        default: DEFAULT_SYNCED_FOLDER_TYPE,
      },
    ),
    exclude: list("Patterns excluded from rsync.", str("An rsync exclude pattern.")),
    accessmode: oneOf(
      "9p and virtiofs: how file ownership maps between guest and host. passthrough: the guest's ids on the host's files (the host process needs the rights); mapped: ids and modes kept in extended attributes; squash: like passthrough, failures to set ownership ignored. virtiofs does passthrough only.",
      ["mapped", "passthrough", "squash"] as const satisfies readonly FolderAccessMode[],
      { defaultText: "passthrough (9p and virtiofs)", vagrant: "accessmode" },
    ),
    readonly: bool(
      "9p and virtiofs: the guest cannot write to the folder (9p: a read-only device; virtiofs: mounted ro, libvirt 9.0 having no read-only virtiofs).",
      { defaultText: "false", vagrant: "readonly" },
    ),
  },
);

const CLOUD_INIT = obj<DomainCloudInit>(
  "Boot a cloud image (no user, no key baked in): lv builds a cloud-init NoCloud seed (an ISO labelled cidata, with meta-data, user-data and network-config), uploads it as a volume the Domain owns, attaches it read-only as a CD-ROM, and waits for `cloud-init status --wait` before Ready. `{}` means lv's defaults: instance-id from the Domain's uid, local-hostname, the ssh user with a key lv generates and passwordless sudo, the SSH host key lv pins, and network-config v2 (static addresses from interfaces[].ip, DHCP otherwise). A change of the seed's contents is a next-boot change: the new seed carries a new instance-id, so at the next boot cloud-init runs its per-instance modules again with the new data.",
  {
    userData: {
      type: "any",
      shownType: "Object|string",
      description:
        "A mapping: cloud-config merged after lv's defaults (its users come after lv's user, its other keys replace lv's). Text: the whole user-data, taken as is (lv adds no user or key: give spec.ssh.privateKey); a single line not starting with # is the path of a host file holding it. #cloud-config text must be a YAML mapping.",
    },
    networkConfig: {
      type: "any",
      shownType: "Object",
      description: "network-config (version 1 or 2) used instead of the one lv generates from interfaces.",
    },
  },
);

const DOMAIN_SPEC = obj<DomainSpec>("Desired state of a Domain: a virtual machine.", {
  box: str(
    "Name of a Box: lv creates a copy-on-write Volume named after the domain on it, owned by the domain, as the first disk (vda). Explicit disks follow it.",
    { format: "name", vagrant: "box" },
  ),
  driver: oneOf(
    "Domain type: kvm (hardware virtualization) or qemu (emulation, TCG).",
    ["kvm", "qemu"] as const satisfies readonly DomainDriver[],
    {
      defaultText: "kvm where the host offers it, else qemu (status.driver shows the choice)",
      vagrant: "driver",
    },
  ),
  cpus: int(
    "Number of virtual CPUs (online; maxVcpus is how many the domain has room for).",
    1,
    CPUS_MAX,
    { default: DEFAULT_CPUS, vagrant: "cpus" },
  ),
  maxVcpus: int(
    "vCPUs the domain can be given while running (libvirt `<vcpu>`, with cpus as its current count). At least cpus; a change takes effect at the next boot.",
    1,
    CPUS_MAX,
    { defaultText: "cpus (no room to grow live)" },
  ),
  memory: {
    type: "quantity",
    description:
      "Memory: a number of MiB (as in vagrant-libvirt) or a quantity such as 2Gi; a whole number of MiB, 16Mi to 16Ti. Changed live, the guest gives memory back or takes it with its virtio balloon driver.",
    plainUnit: "MiB",
    unit: "MiB",
    minimum: MEMORY_MIN,
    maximum: MEMORY_MAX,
    default: DEFAULT_MEMORY_MIB,
    vagrant: "memory",
  },
  maxMemory: {
    type: "quantity",
    description:
      "Memory the domain can balloon up to while running (libvirt `<memory>`, with memory as `<currentMemory>`): MiB or a quantity. At least memory; a change takes effect at the next boot.",
    plainUnit: "MiB",
    unit: "MiB",
    minimum: MEMORY_MIN,
    maximum: MEMORY_MAX,
    defaultText: "memory (no room to grow live)",
  },
  nested: bool(
    "Expose hardware virtualization (vmx/svm) to the guest for nested KVM; it has an effect only where the domain runs on kvm.",
    {
      default: DEFAULT_NESTED,
      vagrant: "nested",
    },
  ),
  volumeCache: oneOf("Cache mode for disks that do not name their own.", DISK_CACHES, {
    default: DEFAULT_VOLUME_CACHE,
    vagrant: "volume_cache",
  }),
  disks: list("Extra disks, after the box overlay if there is one. Device names must be unique.", DISK, {
    vagrant: "storage",
  }),
  interfaces: list(
    "Network interfaces in guest order. MACs and IPs must be unique within the domain.",
    INTERFACE,
    { vagrant: "network" },
  ),
  hostname: str("Host name set in the guest.", { format: "hostname", vagrant: "hostname" }),
  ssh: SSH,
  provision: list("Provisioners, run in order.", PROVISIONER, { vagrant: "provision" }),
  syncedFolders: list(
    "Folders shared with the guest. Targets must be unique. rsync and nfs folders change live; adding, changing or removing a 9p or virtiofs folder (a device of the definition) takes effect at the next boot.",
    SYNCED_FOLDER,
    {
      vagrant: "synced_folder",
    },
  ),
  forwardedPorts: FORWARDED_PORTS,
  state: oneOf(
    "Desired power state: Running, Stopped (shut down) or Paused. `lv up`, `lv halt`, `lv suspend` and `lv resume` set it.",
    ["Running", "Stopped", "Paused"] as const satisfies readonly DomainState[],
    { default: DEFAULT_STATE },
  ),
  storagePoolName: str("Storage pool for the box overlay volume.", {
    format: "libvirt-name",
    default: DEFAULT_POOL,
    vagrant: "storage_pool_name",
  }),
  machineVirtualSize: {
    type: "quantity",
    description:
      "Size of the box overlay: a number of GiB (as in vagrant-libvirt) or a quantity such as 40Gi. Only with box.",
    plainUnit: "GiB",
    unit: "bytes",
    minimum: 1,
    maximum: SIZE_MAX,
    defaultText: "the box's virtual size",
    vagrant: "machine_virtual_size",
  },
  managementNetwork: str(
    "The existing libvirt network of the management interface lv adds to a Domain that talks SSH (communicator ssh) and declares no interfaces; \"none\" adds none. lv attaches to it as to a libvirtNetwork and never changes it. On qemu:///session (no libvirt networks) the management interface is QEMU's user-mode network instead, with the guest's SSH forwarded from a free port on 127.0.0.1 (status.guest.port).",
    {
      format: "libvirt-name",
      defaultText: "the context's defaultNetwork, else \"default\" (libvirt's own network)",
      vagrant: "management_network_name (default_network)",
    },
  ),
  communicator: oneOf(
    "How lv talks to the guest: ssh (wait for SSH, then set the hostname, networks, folders and provisioners up) or none (no guest OS: Ready once running).",
    ["ssh", "none"] as const,
    { default: "ssh", vagrant: "vm.communicator" },
  ),
  gracefulHaltTimeout: int("Seconds a guest gets to shut down on ACPI before lv powers it off.", 0, 3600, {
    default: 60,
    vagrant: "vm.graceful_halt_timeout",
  }),
  ...DOMAIN_MACHINE_FIELDS,
  cloudInit: CLOUD_INIT,
  context: CONTEXT,
});

// ---------------------------------------------------------------- resources

const STATUS: Field = {
  type: "any",
  description:
    "Observed state, written by lv's controllers: phase, conditions, observedGeneration and kind-specific fields. Ignored on input.",
  default: {},
  managed: true,
};

const KIND_DESCRIPTIONS: Record<Kind, string> = {
  Box:
    "A base image: a qcow2/raw image or Vagrant .box, uploaded once into a storage pool and shared read-only by the Volumes (and Domains) built on it.",
  Volume: "A disk: one volume in a libvirt storage pool, blank or a copy-on-write overlay on a Box.",
  Network: "A libvirt virtual network: nat, route or isolated, with an IPv4 subnet and DHCP.",
  Domain:
    "A virtual machine: CPUs, memory, disks (a box overlay and Volumes), interfaces on Networks or host devices, SSH access, provisioning and synced folders.",
};

const SPECS: Record<Kind, ObjectField> = {
  Box: BOX_SPEC,
  Volume: VOLUME_SPEC,
  Network: NETWORK_SPEC,
  Domain: DOMAIN_SPEC,
};

function resourceField(kind: Kind): ObjectField {
  return {
    type: "object",
    description: KIND_DESCRIPTIONS[kind],
    fields: {
      apiVersion: oneOf("API version of the object.", [API_VERSION], { required: true }),
      kind: oneOf("Kind of the object.", [kind], { required: true }),
      metadata: METADATA,
      spec: { ...SPECS[kind], default: {} },
      status: STATUS,
    },
  };
}

/** The field table of each kind: the whole object (apiVersion, kind, metadata, spec, status). */
export const RESOURCE_FIELDS: Record<Kind, ObjectField> = {
  Box: resourceField("Box"),
  Volume: resourceField("Volume"),
  Network: resourceField("Network"),
  Domain: resourceField("Domain"),
};

// ---------------------------------------------------------------- JSON Schema

type JsonObject = Record<string, unknown>;

function fieldSchema(field: Field): JsonObject {
  const s: JsonObject = { description: describe(field) };
  switch (field.type) {
    case "string": {
      s.type = "string";
      if (field.enum) s.enum = [...field.enum];
      if (field.format) {
        const f = FORMATS[field.format];
        if (f.pattern) s.pattern = f.pattern;
        if (f.jsonFormat) s.format = f.jsonFormat;
        if (f.maxLength) s.maxLength = f.maxLength;
      }
      if (field.maxLength !== undefined) s.maxLength = field.maxLength;
      if (!field.allowEmpty && !field.enum) s.minLength = 1;
      break;
    }
    case "integer":
      s.type = "integer";
      s.minimum = field.minimum;
      s.maximum = field.maximum;
      break;
    case "boolean":
      s.type = "boolean";
      break;
    case "quantity": {
      const plain = UNIT_BYTES[field.plainUnit];
      s.anyOf = [
        {
          type: "integer",
          minimum: Math.ceil(field.minimum / plain),
          maximum: Math.floor(field.maximum / plain),
        },
        { type: "string", pattern: QUANTITY_PATTERN },
      ];
      break;
    }
    case "object":
      Object.assign(s, objectSchema(field));
      break;
    case "array":
      s.type = "array";
      s.items = fieldSchema(field.items);
      if (field.maxItems !== undefined) s.maxItems = field.maxItems;
      break;
    case "map": {
      s.type = "object";
      const keys = FORMATS[field.keys];
      const names: JsonObject = {};
      if (keys.pattern) names.pattern = keys.pattern;
      if (keys.maxLength) names.maxLength = keys.maxLength;
      s.propertyNames = names;
      s.additionalProperties = fieldSchema(field.values);
      break;
    }
    case "any":
      break;
  }
  if (
    field.default !== undefined && !field.managed &&
    !(field.type === "object" && isEmptyObject(field.default))
  ) {
    s.default = field.default;
  }
  return s;
}

/** An object's properties, required ones, and its exactlyOne/atMostOne groups. */
function objectSchema(field: ObjectField): JsonObject {
  const s: JsonObject = { type: "object" };
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const [name, child] of Object.entries(field.fields)) {
    properties[name] = fieldSchema(child);
    if (child.required) required.push(name);
  }
  s.properties = properties;
  if (required.length > 0) s.required = required;
  s.additionalProperties = false;
  const all: JsonObject[] = [];
  for (const group of field.exactlyOne ?? []) {
    all.push({ oneOf: group.map((name) => ({ required: [name] })) });
  }
  for (const group of field.atMostOne ?? []) {
    all.push({ not: { required: [...group] } });
  }
  if (all.length === 1) Object.assign(s, all[0]);
  else if (all.length > 1) s.allOf = all;
  return s;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 0;
}

function describe(field: Field): string {
  let text = field.description;
  if (field.defaultText) text += ` Default: ${field.defaultText}.`;
  if (field.vagrant) text += ` (vagrant-libvirt: ${field.vagrant})`;
  return text;
}

/**
 * JSON Schema (draft 2020-12) of one kind, as users write it: quantities may
 * be numbers or strings, defaults are shown, managed fields are accepted.
 * For editors (yaml-language-server) and other tools.
 */
export function jsonSchema(kindName: Kind | string): JsonObject {
  const kind = kindFromName(kindName);
  if (kind === undefined) throw unknownKind(kindName);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://lv.dev/schemas/v1alpha1/${kind.toLowerCase()}.json`,
    title: kind,
    ...fieldSchema(RESOURCE_FIELDS[kind]),
  };
}

// ---------------------------------------------------------------- explain

/** The explain failure: an unknown kind or field, with a suggestion. */
export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExplainError";
  }
}

/** Options for {@linkcode explain}. */
export interface ExplainOptions {
  /** List every nested field, indented, instead of only the direct children. Default false. */
  recursive?: boolean;
}

const KIND_ALIASES: Record<string, Kind> = {};
for (const kind of KINDS) {
  const lower = kind.toLowerCase();
  KIND_ALIASES[lower] = kind;
  KIND_ALIASES[lower === "box" ? "boxes" : `${lower}s`] = kind;
}

function unknownKind(name: string): ExplainError {
  const guess = closest(name, Object.keys(KIND_ALIASES));
  return new ExplainError(
    `unknown kind ${JSON.stringify(name)}; lv has ${KINDS.join(", ")}` +
      (guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""),
  );
}

/** The kind a user typed (`domain`, `Domains`, `box`), or undefined. */
export function kindFromName(name: string): Kind | undefined {
  return KIND_ALIASES[name.toLowerCase()];
}

/** The type as explain shows it: `<string>`, `<[]Object>`, `<map[string]string>`. */
export function typeName(field: Field): string {
  switch (field.type) {
    case "object":
      return "Object";
    case "array":
      return `[]${typeName(field.items)}`;
    case "map":
      return "map[string]string";
    case "quantity":
      return field.plainUnit === "bytes" ? "integer or quantity" : `integer (${field.plainUnit}) or quantity`;
    case "any":
      return field.shownType ?? "Object";
    default:
      return field.type;
  }
}

function wrap(text: string, indent: string, width = 80): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}

/** Where a field is, for the facts that depend on it (change class, merge key). */
interface FieldAt {
  kind: Kind;
  path: string;
}

function facts(field: Field, at?: FieldAt): string[] {
  const out: string[] = [];
  if (field.type === "string" && field.enum) out.push(`One of: ${field.enum.join(", ")}.`);
  if (field.type === "string" && field.format) out.push(`Must be ${FORMATS[field.format].rule}.`);
  if (field.type === "integer") out.push(`From ${field.minimum} to ${field.maximum}.`);
  if (field.type === "map") out.push(`Keys: ${FORMATS[field.keys].rule}.`);
  // A defaultText says what the default means (e.g. a list that is empty unless something fills it in).
  if (field.default !== undefined && !field.defaultText && !field.managed && !(field.type === "object")) {
    out.push(`Default: ${JSON.stringify(field.default)}.`);
  }
  if (field.defaultText) out.push(`Default: ${field.defaultText}.`);
  if (field.vagrant) out.push(`vagrant-libvirt: ${field.vagrant}.`);
  if (at) out.push(...changeFacts(at.kind, at.path));
  return out;
}

/** The change class of a spec field and, for a list, how apply merges its items. */
function changeFacts(kind: Kind, path: string): string[] {
  const cls = /^(spec\.|metadata\.(labels|annotations))/.test(path) ? changeClassOf(kind, path) : undefined;
  const out = cls ? [`Change: ${changeClassText(kind, cls, path)}.`] : [];
  const key = LIST_KEYS[path];
  if (key) out.push(`lv apply merges items by ${key.text}.`);
  return out;
}

function childFields(field: Field): Record<string, Field> | undefined {
  if (field.type === "object") return field.fields;
  if (field.type === "array") return childFields(field.items);
  return undefined;
}

function childEntries(
  fields: Record<string, Field>,
  indent: string,
  options: { recursive: boolean; at: FieldAt },
): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(fields)) {
    const marker = child.required ? " -required-" : "";
    const at = { kind: options.at.kind, path: options.at.path ? `${options.at.path}.${name}` : name };
    out.push(`${indent}${name}\t<${typeName(child)}>${marker}`);
    out.push(...wrap([child.description, ...facts(child, at)].join(" "), indent + "  "));
    out.push("");
    const nested = childFields(child);
    if (options.recursive && nested) out.push(...childEntries(nested, indent + "  ", { ...options, at }));
  }
  return out;
}

/**
 * Documentation of a kind or field, like `kubectl explain`:
 *
 * ```ts
 * explain("domain.spec.interfaces")
 * // KIND:     Domain
 * // VERSION:  lv.dev/v1alpha1
 * //
 * // FIELD:    interfaces <[]Object>
 * // ...
 * ```
 *
 * The kind is case-insensitive and may be plural. List fields descend into
 * their items. Throws {@linkcode ExplainError} for an unknown kind or field.
 */
export function explain(kindAndPath: string, options: ExplainOptions = {}): string {
  const [kindName, ...path] = kindAndPath.trim().split(".");
  const kind = kindFromName(kindName);
  if (kind === undefined) throw unknownKind(kindName);
  let field: Field = RESOURCE_FIELDS[kind];
  let where: string = kind;
  for (const name of path) {
    const fields = childFields(field);
    if (fields === undefined) {
      throw new ExplainError(
        `${where} is of type ${typeName(field)} and has no field ${JSON.stringify(name)}`,
      );
    }
    const next: Field | undefined = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (next === undefined) {
      const guess = closest(name, Object.keys(fields));
      throw new ExplainError(
        `field ${JSON.stringify(name)} does not exist in ${where}` +
          (guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""),
      );
    }
    field = next;
    where = `${where}.${name}`;
  }
  const lines = [`KIND:     ${kind}`, `VERSION:  ${API_VERSION}`, ""];
  if (path.length > 0) {
    lines.push(
      `FIELD:    ${path[path.length - 1]} <${typeName(field)}>${field.required ? " -required-" : ""}`,
      "",
    );
  }
  lines.push("DESCRIPTION:");
  lines.push(...wrap(field.description, "    "));
  const at = { kind, path: path.join(".") };
  const extra = facts(field, at);
  if (extra.length > 0) lines.push(...wrap(extra.join(" "), "    "));
  const fields = childFields(field);
  if (fields !== undefined) {
    lines.push("", "FIELDS:");
    lines.push(...childEntries(fields, "  ", { recursive: options.recursive ?? false, at }));
    while (lines[lines.length - 1] === "") lines.pop();
  }
  return lines.join("\n") + "\n";
}
