/**
 * The libvirt adapter: every libvirt action lv takes, as virsh argv arrays. XML in and out is raw text;
 * src/libvirt/xml/ builds and parses it. Each method states what it does when the object already is (or is
 * not) there, so reconcilers can be idempotent.
 */
import { VirshError, type VirshResult, type VirshRunner } from "./virsh.ts";

export interface DomainStateInfo {
  /** libvirt's words: "running", "shut off", "paused", "crashed", "pmsuspended", "in shutdown". */
  state: string;
  /** The reason libvirt gives, e.g. "booted", "user", "internal error". */
  reason: string;
}

export interface NetworkInfo {
  xml: string;
  active: boolean;
  autostart: boolean;
  persistent: boolean;
}

export interface Lease {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface VolUploadOptions {
  /** Bytes of the file sent so far, and its size; called while the upload runs. */
  onProgress?: (done: number, total: number) => void;
  /** How often progress is looked at. Default 500 ms. */
  pollMs?: number;
  /**
   * Always through libvirtd (`vol-upload`), never copied by lv into a local volume's file. Also for every
   * upload with LV_UPLOAD=stream in the environment.
   */
  stream?: boolean;
}

export interface PoolInfo {
  xml: string;
  active: boolean;
  autostart: boolean;
}

/** What libvirt says when a host does not offer a virt type (QEMU without KVM, an unknown type). */
const VIRTTYPE_NOT_OFFERED =
  /KVM is not supported|is not supported by '[^']*' on this host|does not support virt type|unknown virttype/i;

/** Options of {@linkcode Libvirt.domGet} and {@linkcode Libvirt.domLiveXml}. */
export interface DomainXmlReadOptions {
  /** With the display password (`--security-info`; refused on a read-only connection). Default false. */
  securityInfo?: boolean;
}

function securityInfo(options: DomainXmlReadOptions): string[] {
  return options.securityInfo ? ["--security-info"] : [];
}

export class Libvirt {
  readonly virsh: VirshRunner;
  constructor(virsh: VirshRunner) {
    this.virsh = virsh;
  }

  get uri(): string {
    return this.virsh.uri;
  }

  /** Runs virsh; throws VirshError on a non-zero exit. */
  async run(args: string[], options: { stdin?: string; what?: string } = {}): Promise<string> {
    const result = await this.virsh.run(args, { stdin: options.stdin });
    if (result.code !== 0) throw new VirshError(args, result, { what: options.what });
    return result.stdout;
  }

  /** Runs virsh; returns undefined when libvirt says the object does not exist. */
  async #maybe(args: string[], what?: string): Promise<string | undefined> {
    const result: VirshResult = await this.virsh.run(args);
    if (result.code === 0) return result.stdout;
    const error = new VirshError(args, result, { what });
    if (error.notFound) return undefined;
    throw error;
  }

  /** Checks the connection; throws VirshError (unreachable) when libvirtd cannot be reached. */
  async version(): Promise<string> {
    return (await this.run(["version", "--daemon"], { what: "Cannot reach libvirt" })).trim();
  }

  async capabilities(): Promise<string> {
    return await this.run(["capabilities"]);
  }

  /**
   * domcapabilities for a virt type; undefined only when libvirt answers that the host does not offer it
   * (e.g. no KVM). Any other failure (libvirt unreachable, access denied) throws VirshError.
   */
  async domainCapabilities(virttype: string): Promise<string | undefined> {
    const args = ["domcapabilities", "--virttype", virttype];
    const result = await this.virsh.run(args);
    if (result.code === 0) return result.stdout;
    const error = new VirshError(args, result, { what: `Cannot ask libvirt whether it offers ${virttype}` });
    if (!error.unreachable && VIRTTYPE_NOT_OFFERED.test(result.stderr)) return undefined;
    throw error;
  }

  /**
   * Whether this connection offers KVM: asked once per connection and remembered; a failure to ask
   * (libvirt unreachable) throws and is not remembered, so it is never taken for "no KVM".
   */
  kvmOffered(): Promise<boolean> {
    if (!this.#kvm) {
      const asked = this.domainCapabilities("kvm").then((caps) => caps !== undefined);
      this.#kvm = asked;
      asked.catch(() => {
        if (this.#kvm === asked) this.#kvm = undefined;
      });
    }
    return this.#kvm;
  }
  #kvm?: Promise<boolean>;

  // ------------------------------------------------------------ pools

  /** The pool, or undefined when it does not exist. */
  async poolGet(name: string): Promise<PoolInfo | undefined> {
    const xml = await this.#maybe(["pool-dumpxml", name]);
    if (xml === undefined) return undefined;
    const info = infoMap(await this.run(["pool-info", name]));
    return { xml, active: info["State"] === "running", autostart: info["Autostart"] === "yes" };
  }

  /** Defines a pool; fails when one with the same name exists. */
  async poolDefine(xml: string): Promise<void> {
    await this.run(["pool-define", "/dev/stdin"], { stdin: xml, what: "Cannot define pool" });
  }

  /** Builds (creates the directory of) a dir pool; succeeds when it already exists. */
  async poolBuild(name: string): Promise<void> {
    await this.run(["pool-build", name], { what: `Cannot build pool "${name}"` });
  }

  async poolStart(name: string): Promise<void> {
    await this.run(["pool-start", name], { what: `Cannot start pool "${name}"` });
  }

  async poolAutostart(name: string): Promise<void> {
    await this.run(["pool-autostart", name], { what: `Cannot autostart pool "${name}"` });
  }

  /** Rescans a pool so files created behind libvirt's back show as volumes. */
  async poolRefresh(name: string): Promise<void> {
    await this.run(["pool-refresh", name], { what: `Cannot refresh pool "${name}"` });
  }

  // ------------------------------------------------------------ volumes

  /** The volume's XML, or undefined when it does not exist. */
  async volGet(pool: string, name: string): Promise<string | undefined> {
    return await this.#maybe(["vol-dumpxml", "--pool", pool, name]);
  }

  /** Names of the volumes in a pool. */
  async volList(pool: string): Promise<string[]> {
    const out = await this.run(["vol-list", "--pool", pool], {
      what: `Cannot list volumes of pool "${pool}"`,
    });
    return out.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n);
  }

  /** Creates a volume from XML; fails when a volume of that name exists. */
  async volCreate(pool: string, xml: string): Promise<void> {
    await this.run(["vol-create", "--pool", pool, "/dev/stdin"], {
      stdin: xml,
      what: "Cannot create volume",
    });
  }

  /**
   * Writes a file's bytes into an existing volume (overwrites its content): copied by lv when libvirt is local
   * and the volume's file writable here (volume_copy.ts), else `virsh vol-upload`. With `onProgress`, reports
   * the bytes read of the file while it runs (from /proc, see read_progress.ts), and the whole size once done.
   */
  async volUpload(pool: string, name: string, file: string, options: VolUploadOptions = {}): Promise<void> {
    const total = await Deno.stat(file).then((info) => info.size, () => undefined);
    const onProgress = total === undefined ? undefined : options.onProgress;
    const report = onProgress && ((done: number) => onProgress(Math.min(done, total!), total!));
    report?.(0);
    const stream = options.stream || Deno.env.get("LV_UPLOAD") === "stream";
    // Loaded here: commands that upload nothing (lv get) do not load them.
    const [{ copyIntoVolume }, { whileChildReads }] = await Promise.all([
      import("./volume_copy.ts"),
      import("./read_progress.ts"),
    ]);
    const copied = total !== undefined && !stream &&
      await copyIntoVolume(this, { pool, name }, file, total, report, options.pollMs);
    if (!copied) {
      const match = (argv: string[]) =>
        argv.includes("vol-upload") && argv.includes(name) && argv.includes(file);
      await whileChildReads(
        { match, file, onOffset: report, pollMs: options.pollMs },
        () =>
          this.run(["vol-upload", "--pool", pool, name, file], {
            what: `Cannot upload ${file} to volume "${name}" in pool "${pool}"`,
          }),
      );
    }
    report?.(total!);
  }

  /**
   * Writes bytes of a volume into a local file (replacing it), from `offset` (default 0) for at most
   * `length` bytes (default, or 0: to the end). An offset at or past the end gives an empty file.
   */
  async volDownload(
    pool: string,
    name: string,
    file: string,
    options: { offset?: number; length?: number } = {},
  ): Promise<void> {
    const range = [
      ...(options.offset ? ["--offset", String(options.offset)] : []),
      ...(options.length ? ["--length", String(options.length)] : []),
    ];
    await this.run(["vol-download", "--pool", pool, ...range, name, file], {
      what: `Cannot download volume "${name}" of pool "${pool}"`,
    });
  }

  /** Deletes a volume; succeeds when it does not exist. */
  async volDelete(pool: string, name: string): Promise<void> {
    await this.#maybe(["vol-delete", "--pool", pool, name], `Cannot delete volume "${name}"`);
  }

  /** Grows a volume to capacity bytes. */
  async volResize(pool: string, name: string, bytes: number): Promise<void> {
    await this.run(["vol-resize", "--pool", pool, name, String(bytes)], {
      what: `Cannot resize volume "${name}"`,
    });
  }

  // ------------------------------------------------------------ networks

  /** The network, or undefined when it does not exist. */
  async netGet(name: string): Promise<NetworkInfo | undefined> {
    const xml = await this.#maybe(["net-dumpxml", "--inactive", name]);
    if (xml === undefined) return undefined;
    const info = infoMap(await this.run(["net-info", name]));
    return {
      xml,
      active: info["Active"] === "yes",
      autostart: info["Autostart"] === "yes",
      persistent: info["Persistent"] === "yes",
    };
  }

  /** Defines (or redefines: same name and uuid) a persistent network. */
  async netDefine(xml: string): Promise<void> {
    await this.run(["net-define", "/dev/stdin"], { stdin: xml, what: "Cannot define network" });
  }

  async netStart(name: string): Promise<void> {
    await this.run(["net-start", name], { what: `Cannot start network "${name}"` });
  }

  async netAutostart(name: string, enable = true): Promise<void> {
    await this.run(["net-autostart", name, ...(enable ? [] : ["--disable"])], {
      what: `Cannot set autostart of network "${name}"`,
    });
  }

  /** Stops a network; succeeds when it is not running or does not exist. */
  async netDestroy(name: string): Promise<void> {
    const result = await this.virsh.run(["net-destroy", name]);
    if (result.code === 0 || /not active/i.test(result.stderr)) return;
    const error = new VirshError(["net-destroy", name], result, { what: `Cannot stop network "${name}"` });
    if (!error.notFound) throw error;
  }

  /** Removes a network's definition; succeeds when it does not exist. */
  async netUndefine(name: string): Promise<void> {
    await this.#maybe(["net-undefine", name], `Cannot undefine network "${name}"`);
  }

  /**
   * Adds or deletes one DHCP host of a network, in its persistent definition and (when `live`) in the running
   * network, without restarting it.
   */
  async netUpdateHost(
    name: string,
    op: "add-last" | "delete",
    hostXml: string,
    live: boolean,
  ): Promise<void> {
    await this.run(
      ["net-update", name, op, "ip-dhcp-host", hostXml, "--config", ...(live ? ["--live"] : [])],
      {
        what: `Cannot update DHCP hosts of network "${name}"`,
      },
    );
  }

  /** DHCP leases handed out on a network. */
  async netDhcpLeases(name: string): Promise<Lease[]> {
    const out = await this.#maybe(["net-dhcp-leases", name]);
    if (!out) return [];
    const leases: Lease[] = [];
    for (const line of out.split("\n")) {
      // Expiry date and time, MAC, protocol, IP/prefix, hostname, client id
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5 || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(cols[2])) continue;
      const ip = cols[4].split("/")[0];
      if (cols[3] !== "ipv4") continue;
      leases.push({
        mac: cols[2].toLowerCase(),
        ip,
        hostname: cols[5] && cols[5] !== "-" ? cols[5] : undefined,
      });
    }
    return leases;
  }

  // ------------------------------------------------------------ domains

  /**
   * The persistent (inactive) definition, or undefined when there is no such domain. With `securityInfo`
   * (a read-write connection only) it holds the display password: compare it, never show or keep it.
   */
  async domGet(name: string, options: DomainXmlReadOptions = {}): Promise<string | undefined> {
    return await this.#maybe(["dumpxml", "--inactive", ...securityInfo(options), name]);
  }

  /** The live definition of a running domain (MACs and devices libvirt filled in); `securityInfo` as domGet. */
  async domLiveXml(name: string, options: DomainXmlReadOptions = {}): Promise<string> {
    return await this.run(["dumpxml", ...securityInfo(options), name]);
  }

  /** Defines (or redefines, for the next boot) a persistent domain. */
  async domDefine(xml: string): Promise<void> {
    await this.run(["define", "/dev/stdin"], { stdin: xml, what: "Cannot define domain" });
  }

  async domState(name: string): Promise<DomainStateInfo> {
    const out = (await this.run(["domstate", "--reason", name])).trim();
    const m = out.match(/^(.*?)(?: \((.*)\))?$/);
    return { state: m?.[1] ?? out, reason: m?.[2] ?? "" };
  }

  /** The running domain's id (new at every start), or undefined when it is not running. */
  async domId(name: string): Promise<string | undefined> {
    const id = (await this.run(["domid", name])).trim();
    return /^\d+$/.test(id) ? id : undefined;
  }

  async domStart(name: string, options: { paused?: boolean } = {}): Promise<void> {
    await this.run(["start", name, ...(options.paused ? ["--paused"] : [])], {
      what: `Cannot start domain "${name}"`,
    });
  }

  /** Asks the guest to shut down (ACPI); returns at once. */
  async domShutdown(name: string): Promise<void> {
    await this.run(["shutdown", name], { what: `Cannot shut down domain "${name}"` });
  }

  /** Powers off; succeeds when the domain is not running. */
  async domDestroy(name: string): Promise<void> {
    const result = await this.virsh.run(["destroy", name]);
    if (result.code === 0 || /not running/i.test(result.stderr)) return;
    const error = new VirshError(["destroy", name], result, { what: `Cannot power off domain "${name}"` });
    if (!error.notFound) throw error;
  }

  async domSuspend(name: string): Promise<void> {
    await this.run(["suspend", name], { what: `Cannot suspend domain "${name}"` });
  }

  async domResume(name: string): Promise<void> {
    await this.run(["resume", name], { what: `Cannot resume domain "${name}"` });
  }

  async domReboot(name: string): Promise<void> {
    await this.run(["reboot", name], { what: `Cannot reboot domain "${name}"` });
  }

  /**
   * Sets a running domain's balloon target (MiB, at most its `<memory>`) and the definition's
   * `<currentMemory>`; idempotent. The guest gives memory back only with a virtio balloon driver.
   */
  async domSetMemory(name: string, mib: number): Promise<void> {
    await this.run(["setmem", name, `${mib}M`, "--live", "--config"], {
      what: `Cannot set the memory of domain "${name}" to ${mib} MiB`,
    });
  }

  /** Sets a running domain's online vCPUs (at most its `<vcpu>` maximum) live and in the definition. */
  async domSetVcpus(name: string, count: number): Promise<void> {
    await this.run(["setvcpus", name, String(count), "--live", "--config"], {
      what: `Cannot set the vCPUs of domain "${name}" to ${count}`,
    });
  }

  /** Sets the link of a running domain's interface (by MAC) up or down, live; idempotent. */
  async domSetLink(name: string, mac: string, state: "up" | "down"): Promise<void> {
    await this.run(["domif-setlink", name, mac, state], {
      what: `Cannot set the link of interface ${mac} of domain "${name}" ${state}`,
    });
  }

  /** Removes the definition with its snapshot metadata and NVRAM; succeeds when there is no such domain. */
  async domUndefine(name: string): Promise<void> {
    await this.#maybe(
      ["undefine", name, "--managed-save", "--snapshots-metadata", "--checkpoints-metadata", "--nvram"],
      `Cannot undefine domain "${name}"`,
    );
  }

  /** QEMU's own run state (QMP query-status: running, paused, internal-error, ...); undefined when unknown. */
  async qemuStatus(name: string): Promise<string | undefined> {
    const result = await this.virsh.run(["qemu-monitor-command", name, '{"execute":"query-status"}']);
    if (result.code !== 0) return undefined;
    try {
      return JSON.parse(result.stdout).return?.status;
    } catch {
      return undefined;
    }
  }

  /** Snapshot names of a domain, oldest first. */
  async snapshotList(name: string): Promise<string[]> {
    const out = await this.run(["snapshot-list", name, "--name", "--topological"], {
      what: `Cannot list snapshots of "${name}"`,
    });
    return out.split("\n").map((l) => l.trim()).filter((l) => l);
  }

  /** Addresses from libvirt's view of the guest's interfaces (source: lease, arp or agent). */
  async domIfAddr(name: string, source: "lease" | "arp" | "agent"): Promise<Lease[]> {
    const result = await this.virsh.run(["domifaddr", name, "--source", source]);
    if (result.code !== 0) return [];
    const leases: Lease[] = [];
    for (const line of result.stdout.split("\n")) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 4 && cols[2] === "ipv4" && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(cols[1])) {
        leases.push({ mac: cols[1].toLowerCase(), ip: cols[3].split("/")[0] });
      }
    }
    return leases;
  }
}

/** Parses virsh's "Key:   value" info output. */
export function infoMap(out: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) map[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return map;
}
