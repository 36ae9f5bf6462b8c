/**
 * Rules of a Domain's machine and devices that relate fields: CPU mode and model, topology against cpus,
 * secure boot and q35-only devices, boot order, display options, CD-ROM device names after the disks,
 * host devices, input buses. Fills in the defaults that depend on other fields.
 *
 * @module
 */

import { assignDiskDevices } from "./defaults.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainCdrom, DomainSpec } from "./types.ts";
import type { Loose } from "./loose.ts";

/** Whether a machine type is (a version of) q35. */
export function isQ35(machineType: string | undefined): boolean {
  return machineType !== undefined && (machineType === "q35" || machineType.startsWith("pc-q35-"));
}

function duplicates<T>(items: readonly (T | undefined)[], key: (item: T) => string | undefined): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  items.forEach((item, i) => {
    const k = item === undefined ? undefined : key(item);
    if (k === undefined) return;
    if (seen.has(k)) out.push(i);
    seen.add(k);
  });
  return out;
}

function checkCpu(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  const cpu = spec.cpu;
  if (cpu === undefined) return;
  const path: PathSegment[] = ["spec", "cpu"];
  if (cpu.model !== undefined) {
    if (cpu.mode === undefined) cpu.mode = "custom";
    else if (cpu.mode !== "custom") {
      r.report([...path, "model"], {
        message: `applies only with mode custom, not ${cpu.mode}`,
        value: cpu.model,
        hint: "drop model, or set mode: custom",
      });
    }
  }
  const given = [cpu.sockets, cpu.cores, cpu.threads];
  if (given.some((n) => n !== undefined) && given.every((n) => n === undefined || Number.isInteger(n))) {
    cpu.sockets ??= 1;
    cpu.cores ??= 1;
    cpu.threads ??= 1;
    const product = cpu.sockets * cpu.cores * cpu.threads;
    // libvirt's topology describes the maximum vCPUs, not the ones online
    const [bound, count] = spec.maxVcpus !== undefined ? ["maxVcpus", spec.maxVcpus] : ["cpus", spec.cpus];
    if (count !== undefined && product !== count) {
      r.report([...path, "sockets"], {
        message:
          `sockets × cores × threads (${cpu.sockets} × ${cpu.cores} × ${cpu.threads} = ${product}) must equal ${bound} (${count})`,
        key: true,
      });
    }
  }
  for (const i of duplicates(cpu.features ?? [], (f) => f.name)) {
    r.report([...path, "features", i, "name"], {
      message: "is listed twice",
      value: cpu.features?.[i]?.name,
    });
  }
}

function checkFirmware(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  if (spec.secureBoot !== true) return;
  if (spec.firmware !== "efi") {
    r.report(["spec", "secureBoot"], {
      message: "needs firmware: efi",
      value: true,
      hint: "set firmware: efi",
    });
  }
  if (spec.machineType !== undefined && !isQ35(spec.machineType)) {
    r.report(["spec", "secureBoot"], {
      message: `needs a q35 machine type (OVMF's secure boot uses SMM); machineType is ${spec.machineType}`,
      value: true,
      hint: "set machineType: q35",
    });
  }
}

function checkBoot(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  const order = spec.bootOrder ?? [];
  for (const i of duplicates(order, (d) => d)) {
    r.report(["spec", "bootOrder", i], { message: "is listed twice", value: order[i] });
  }
  if (order.includes("cdrom") && (spec.cdroms ?? []).length === 0) {
    r.report(["spec", "bootOrder", order.indexOf("cdrom")], {
      message: "names cdrom, but the domain has no cdroms",
      value: "cdrom",
    });
  }
}

function checkGraphics(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  const g = spec.graphics;
  if (g === undefined || g.type !== "none") return;
  for (const field of ["port", "passwordFile"] as const) {
    if (g[field] !== undefined) {
      r.report(["spec", "graphics", field], {
        message: "applies only with graphics type vnc or spice",
        value: g[field],
        key: true,
      });
    }
  }
}

function checkCdroms(spec: Loose<DomainSpec>, r: ProblemCollector, taken: string[]): void {
  const cdroms = spec.cdroms ?? [];
  const used = new Map<string, string>(taken.map((d) => [d, "a disk"]));
  cdroms.forEach((cd, i) => {
    if (cd === undefined) return;
    const path: PathSegment[] = ["spec", "cdroms", i];
    if (cd.bus === "ide" && isQ35(spec.machineType)) {
      r.report([...path, "bus"], {
        message: "q35 machines have no IDE bus",
        value: "ide",
        hint: "use bus: sata",
      });
    }
    if (cd.device !== undefined) {
      const other = used.get(cd.device);
      if (other !== undefined) {
        r.report([...path, "device"], { message: "must be unique", value: cd.device, hint: `also ${other}` });
      }
      used.set(cd.device, `cdroms[${i}]`);
    }
  });
  if (!r.reported(["spec", "cdroms"])) {
    spec.cdroms = assignDiskDevices(cdroms as Loose<DomainCdrom>[], { taken: used.keys() });
  }
}

function checkDevices(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  if (spec.watchdog?.model === "itco" && spec.machineType !== undefined && !isQ35(spec.machineType)) {
    r.report(["spec", "watchdog", "model"], { message: "itco exists only on q35 machines", value: "itco" });
  }
  (spec.inputs ?? []).forEach((input, i) => {
    if (input?.bus === "ps2" && input.type === "tablet") {
      r.report(["spec", "inputs", i, "bus"], {
        message: "a tablet cannot be on ps2",
        value: "ps2",
        hint: "use usb",
      });
    }
  });
  const hostDevices = spec.hostDevices ?? [];
  hostDevices.forEach((dev, i) => {
    if (dev === undefined) return;
    const path: PathSegment[] = ["spec", "hostDevices", i];
    const usb = dev.type === "usb";
    const needs = usb ? ["vendor", "product"] as const : ["address"] as const;
    const refuses = usb ? ["address"] as const : ["vendor", "product"] as const;
    for (const f of needs) {
      if (dev[f] === undefined) {
        r.report([...path, f], { message: `is required for a ${dev.type} device`, key: true });
      }
    }
    for (const f of refuses) {
      if (dev[f] !== undefined) {
        r.report([...path, f], {
          message: `does not apply to a ${dev.type} device`,
          value: dev[f],
          key: true,
        });
      }
    }
  });
  const key = (d: NonNullable<Loose<DomainSpec>["hostDevices"]>[number]) =>
    d === undefined
      ? undefined
      : `${d.type}/${d.vendor ?? ""}/${d.product ?? ""}/${d.address ?? ""}`.toLowerCase();
  for (const i of duplicates(hostDevices, key)) {
    r.report(["spec", "hostDevices", i], { message: "is passed through twice", key: true });
  }
  const backing = spec.memoryBacking;
  if (backing?.access === "shared") backing.source ??= "memfd";
}

/** maxMemory and maxVcpus bound memory and cpus from above. */
function checkMaximums(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  const pairs = [["maxMemory", "memory", " MiB"], ["maxVcpus", "cpus", ""]] as const;
  for (const [max, of, unit] of pairs) {
    const [top, value] = [spec[max], spec[of]];
    if (typeof top !== "number" || typeof value !== "number" || top >= value) continue;
    r.report(["spec", max], {
      message: `must be at least ${of} (${value}${unit})`,
      value: top,
      hint: `raise ${max}, or leave it out to use ${of}`,
    });
  }
}

/** Checks a walked Domain's machine and device fields; `diskDevices` are the device names disks already use. */
export function checkMachine(spec: Loose<DomainSpec>, r: ProblemCollector, diskDevices: string[]): void {
  checkMaximums(spec, r);
  checkCpu(spec, r);
  checkFirmware(spec, r);
  checkBoot(spec, r);
  checkGraphics(spec, r);
  checkCdroms(spec, r, diskDevices);
  checkDevices(spec, r);
}
