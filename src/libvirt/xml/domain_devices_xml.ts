/**
 * The optional devices of a Domain's libvirt XML: display and video, CD-ROMs, TPM, RNG, watchdog, inputs,
 * host devices and the serial console with its log file; and how each reads back for drift detection.
 * Every value goes through `el()`, which escapes it.
 *
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";
import {
  DEFAULT_GRAPHICS_LISTEN,
  DEFAULT_RNG_BACKEND,
  DEFAULT_VIDEO_MODEL,
  DEFAULT_VIDEO_VRAM_KIB,
} from "../../api/defaults.ts";
import type { Domain, DomainHostDevice } from "../../api/types.ts";
import { parseFilesystems } from "./domain_filesystem_xml.ts";
import { el, type XmlElement } from "./escape.ts";
import { attrOf, childOf, childrenOf, type XmlNode } from "./parse_xml.ts";

/** A CD-ROM as the domain XML needs it: the ISO or Volume resolved to a host path. */
export interface DomainXmlCdrom {
  path: string;
  /** Image format of the file; raw for an ISO. */
  format: string;
  device: string;
  bus: "sata" | "ide" | "scsi";
}

/** What the devices read back as. */
export interface DevicesState {
  /**
   * type/listen/port ("auto" when libvirt picks the port); password: a digest of the display password
   * (keyed per process, so it compares within a pass and means nothing outside it), never the password.
   */
  graphics?: { type: string; listen?: string; port: string; password?: string };
  /** model/vram. */
  video?: string;
  cdroms: DomainXmlCdrom[];
  /** model/version. */
  tpm?: string;
  /** The backend device of a virtio rng. */
  rng?: string;
  /** model/action. */
  watchdog?: string;
  /** type/bus of each input not on ps2 (libvirt adds a PS/2 mouse and keyboard by itself). */
  inputs: string[];
  /** usb/vendor/product or pci/address, lowercase, sorted. */
  hostDevices: string[];
  /** `<serial><log file>`. */
  serialLog?: string;
  /** 9p and virtiofs folders: see domain_filesystem_xml.ts. */
  filesystems: Record<string, string>;
}

/** Video models that take a vram size. */
const VRAM_MODELS = new Set(["vga", "cirrus", "qxl"]);

/** `<graphics>` and `<video>`, or nothing for a headless domain (libvirt 9.0 rejects type none). */
export function displayElements(dom: Domain, password?: string): XmlElement[] {
  const g = dom.spec.graphics;
  const out: XmlElement[] = [];
  if (g !== undefined && g.type !== "none") {
    const listen = g.listen ?? DEFAULT_GRAPHICS_LISTEN;
    out.push(el(
      "graphics",
      {
        type: g.type,
        port: g.port ?? -1,
        autoport: g.port === undefined ? "yes" : "no",
        listen,
        passwd: password,
      },
      el("listen", { type: "address", address: listen }),
    ));
  }
  const headless = g === undefined || g.type === "none";
  const model = dom.spec.video?.model ?? (headless ? undefined : DEFAULT_VIDEO_MODEL);
  if (model !== undefined) {
    const vram = VRAM_MODELS.has(model) ? dom.spec.video?.vram ?? DEFAULT_VIDEO_VRAM_KIB : undefined;
    out.push(el("video", {}, el("model", { type: model, vram, heads: model === "none" ? undefined : 1 })));
  }
  return out;
}

/**
 * The SCSI controller of a domain with a disk or CD-ROM on the scsi bus: virtio-scsi (vagrant-libvirt's
 * disk_controller_model default). Left to libvirt, x86 gets an LSI controller, which Debian's cloud kernel
 * has no driver for.
 */
export function scsiControllerElements(buses: Iterable<string>): XmlElement[] {
  return [...buses].includes("scsi")
    ? [el("controller", { type: "scsi", index: 0, model: "virtio-scsi" })]
    : [];
}

/** A read-only CD-ROM drive. */
export function cdromElement(cd: DomainXmlCdrom): XmlElement {
  return el(
    "disk",
    { type: "file", device: "cdrom" },
    el("driver", { name: "qemu", type: cd.format }),
    el("source", { file: cd.path }),
    el("target", { dev: cd.device, bus: cd.bus }),
    el("readonly"),
  );
}

function hostDeviceSource(dev: DomainHostDevice): XmlElement {
  if (dev.type === "usb") {
    return el("source", {}, el("vendor", { id: dev.vendor }), el("product", { id: dev.product }));
  }
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(dev.address ?? "");
  if (!m) throw new TypeError(`hostDevices: invalid PCI address ${JSON.stringify(dev.address)}`);
  return el(
    "source",
    {},
    el("address", { domain: `0x${m[1]}`, bus: `0x${m[2]}`, slot: `0x${m[3]}`, function: `0x${m[4]}` }),
  );
}

/** TPM, RNG, watchdog, inputs and host devices, as the spec asks. */
export function extraDeviceElements(dom: Domain): XmlElement[] {
  const s = dom.spec;
  const out: XmlElement[] = [];
  for (const input of s.inputs ?? []) out.push(el("input", { type: input.type, bus: input.bus }));
  for (const dev of s.hostDevices ?? []) {
    out.push(el("hostdev", { mode: "subsystem", type: dev.type, managed: "yes" }, hostDeviceSource(dev)));
  }
  if (s.watchdog) out.push(el("watchdog", { model: s.watchdog.model, action: s.watchdog.action }));
  if (s.tpm) {
    out.push(el("tpm", { model: s.tpm.model }, el("backend", { type: "emulator", version: s.tpm.version })));
  }
  if (s.rng?.enabled ?? true) {
    out.push(el(
      "rng",
      { model: "virtio" },
      el("backend", { model: "random" }, s.rng?.backend ?? DEFAULT_RNG_BACKEND),
    ));
  }
  return out;
}

/** The serial console (a pty, `virsh console`), logged to `logFile` when given, and its `<console>`. */
export function serialElements(logFile?: string): XmlElement[] {
  return [
    el(
      "serial",
      { type: "pty" },
      logFile !== undefined && el("log", { file: logFile, append: "on" }),
      el("target", { port: "0" }),
    ),
    el("console", { type: "pty" }, el("target", { type: "serial", port: "0" })),
  ];
}

/** Key of the display password's digest: random for each process (see DevicesState.graphics). */
const PASSWORD_KEY = randomBytes(32);

function parseGraphics(node: XmlNode | undefined): DevicesState["graphics"] {
  if (!node) return undefined;
  const auto = attrOf(node, "autoport") === "yes";
  const graphics: NonNullable<DevicesState["graphics"]> = {
    type: attrOf(node, "type") ?? "",
    listen: attrOf(node, "listen") ?? attrOf(childOf(node, "listen"), "address"),
    port: auto ? "auto" : attrOf(node, "port") ?? "",
  };
  const passwd = attrOf(node, "passwd");
  if (passwd !== undefined) {
    graphics.password = createHmac("sha256", PASSWORD_KEY).update(passwd).digest("hex");
  }
  return graphics;
}

function hostDeviceKey(node: XmlNode): string {
  const source = childOf(node, "source");
  if (attrOf(node, "type") === "usb") {
    const id = (name: string) => attrOf(childOf(source, name), "id") ?? "";
    return `usb/${id("vendor")}/${id("product")}`.toLowerCase();
  }
  const a = childOf(source, "address");
  const hex = (k: string, width: number) => (attrOf(a, k) ?? "0").replace(/^0x/i, "").padStart(width, "0");
  return `pci/${hex("domain", 4)}:${hex("bus", 2)}:${hex("slot", 2)}.${hex("function", 1)}`.toLowerCase();
}

/** The key {@linkcode parseDevices} gives a host device of the spec. */
export function specHostDeviceKey(dev: DomainHostDevice): string {
  return (dev.type === "usb" ? `usb/${dev.vendor}/${dev.product}` : `pci/${dev.address}`).toLowerCase();
}

/** Reads the devices of a `<domain>`'s `<devices>`. */
export function parseDevices(devices: XmlNode | undefined): DevicesState {
  const state: DevicesState = {
    cdroms: childrenOf(devices, "disk").filter((d) => attrOf(d, "device") === "cdrom").map((d) => ({
      path: attrOf(childOf(d, "source"), "file") ?? "",
      format: attrOf(childOf(d, "driver"), "type") ?? "raw",
      device: attrOf(childOf(d, "target"), "dev") ?? "",
      bus: (attrOf(childOf(d, "target"), "bus") ?? "") as DomainXmlCdrom["bus"],
    })),
    inputs: childrenOf(devices, "input")
      .filter((i) => attrOf(i, "bus") !== "ps2")
      .map((i) => `${attrOf(i, "type")}/${attrOf(i, "bus")}`),
    hostDevices: childrenOf(devices, "hostdev").map(hostDeviceKey).sort(),
    filesystems: parseFilesystems(devices),
  };
  const graphics = parseGraphics(childOf(devices, "graphics"));
  if (graphics) state.graphics = graphics;
  const video = childOf(childOf(devices, "video"), "model");
  if (video) {
    const type = attrOf(video, "type") ?? "";
    state.video = `${type}/${VRAM_MODELS.has(type) ? attrOf(video, "vram") ?? "" : ""}`;
  }
  const tpm = childOf(devices, "tpm");
  if (tpm) state.tpm = `${attrOf(tpm, "model") ?? ""}/${attrOf(childOf(tpm, "backend"), "version") ?? ""}`;
  const rng = childrenOf(devices, "rng").find((r) => attrOf(r, "model") === "virtio");
  if (rng) state.rng = childOf(rng, "backend")?.text.trim() ?? "";
  const watchdog = childOf(devices, "watchdog");
  if (watchdog) {
    state.watchdog = `${attrOf(watchdog, "model") ?? ""}/${attrOf(watchdog, "action") ?? "reset"}`;
  }
  const log = attrOf(childOf(childOf(devices, "serial"), "log"), "file");
  if (log !== undefined) state.serialLog = log;
  return state;
}

/** The display of a running domain from its live XML: type, listen address and the port libvirt chose. */
export function liveGraphics(
  devices: XmlNode | undefined,
): { type: string; listen?: string; port?: number } | undefined {
  const node = childOf(devices, "graphics");
  if (!node) return undefined;
  const port = Number(attrOf(node, "port"));
  const out: { type: string; listen?: string; port?: number } = { type: attrOf(node, "type") ?? "" };
  const listen = attrOf(node, "listen") ?? attrOf(childOf(node, "listen"), "address");
  if (listen !== undefined) out.listen = listen;
  if (Number.isInteger(port) && port > 0) out.port = port;
  return out;
}
