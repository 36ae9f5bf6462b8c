/** lv doctor: checks the host and prints the fix for each problem. */
import { join } from "node:path";
import { isLocal } from "../controller/domain/serial_log.ts";
import { VirshError } from "../libvirt/virsh.ts";
import { CommandFailed } from "./errors.ts";
import { renderTable } from "./printers.ts";
import type { Check } from "./doctor_check.ts";
import type { Runtime } from "./runtime.ts";

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if ((await Deno.stat(join(dir, cmd))).isFile) return true;
    } catch { /* next */ }
  }
  return false;
}

const SETUP = "run scripts/setup.sh (installs Deno's companions: libvirt, qemu, and starts libvirtd)";

/** The programs lv runs, with the Debian package that has each. */
const TOOLS: Record<string, string> = {
  virsh: "libvirt-clients",
  "qemu-img": "qemu-utils",
  tar: "tar",
  rsync: "rsync",
  ssh: "openssh-client",
};

/** Which libvirt this command uses and where that choice came from. */
function uriCheck(rt: Runtime): Check {
  const from = rt.connection.context
    ? `context ${rt.connection.context}`
    : Deno.env.get("LV_CONNECT")
    ? "$LV_CONNECT"
    : "--connect or the default";
  const test = rt.libvirt.uri.startsWith("test://");
  return {
    name: "libvirt URI",
    ok: !test,
    detail: `${rt.libvirt.uri} (from ${from})${test ? ": the test driver, which lv cannot converge on" : ""}`,
    fix: test ? "use qemu:///system or qemu:///session" : undefined,
  };
}

/**
 * /dev/kvm: absent is a warning (TCG works, slowly); present but not usable by this user fails with
 * qemu:///session (QEMU runs as this user), and only warns otherwise (libvirtd's QEMU user opens it).
 */
export async function kvmDevice(uri: string, path = "/dev/kvm"): Promise<Check> {
  const session = uri.includes("/session");
  try {
    (await Deno.open(path, { read: true, write: true })).close();
    return { name: "/dev/kvm", ok: true, detail: "present; this user can open it" };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        name: "/dev/kvm",
        ok: "warn",
        detail: "absent",
        fix: "enable virtualization, or driver: qemu",
      };
    }
    return {
      name: "/dev/kvm",
      ok: session ? false : "warn",
      detail: `present, but this user cannot open it (${(e as Error).message})`,
      fix: "add your user to the kvm group (usermod -aG kvm $USER) and log in again",
    };
  }
}

export async function runChecks(rt: Runtime): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [cmd, pkg] of Object.entries(TOOLS)) {
    const ok = await onPath(cmd);
    checks.push({
      name: cmd,
      ok,
      detail: ok ? "found on PATH" : "not found on PATH",
      fix: ok ? undefined : `apt-get install ${pkg}`,
    });
  }
  checks.push(uriCheck(rt), await kvmDevice(rt.libvirt.uri));
  let reachable = false;
  try {
    const version = await rt.libvirt.version();
    reachable = true;
    checks.push({ name: "libvirtd", ok: true, detail: `${rt.libvirt.uri}: ${version.split("\n").pop()}` });
  } catch (e) {
    checks.push({
      name: "libvirtd",
      ok: false,
      detail: `${rt.libvirt.uri}: ${(e as Error).message}`,
      fix: e instanceof VirshError && /Permission denied/i.test(e.stderr)
        ? "add your user to the libvirt group (usermod -aG libvirt $USER) and log in again"
        : `start libvirtd (systemctl start libvirtd, or libvirtd -d) or check --connect; ${SETUP}`,
    });
  }
  if (reachable) {
    const kvm = await rt.libvirt.domainCapabilities("kvm");
    let cpuFlags = "";
    try {
      cpuFlags = await Deno.readTextFile("/proc/cpuinfo");
    } catch { /* not linux */ }
    const virt = /\b(vmx|svm)\b/.test(cpuFlags);
    checks.push({
      name: "kvm",
      ok: kvm && virt ? true : "warn",
      detail: kvm && virt
        ? "libvirt offers kvm and the CPU has hardware virtualization"
        : kvm
        ? "libvirt offers kvm but the CPU shows no vmx/svm flag: guests may pause with a KVM internal error"
        : "libvirt does not offer kvm on this host",
      fix: kvm && virt
        ? undefined
        : "use driver: qemu (TCG emulation, slower) in your Domains, or enable virtualization",
    });
    const { bridgeHelperCheck, isSession, machineChecks, modeCheck, poolCheck } = await import(
      "./doctor_machine.ts"
    );
    checks.push(
      modeCheck(rt.libvirt.uri),
      // The helper is this machine's: checked for a session here, not one on another host.
      ...(isSession(rt.libvirt.uri) && isLocal(rt.libvirt.uri) ? [await bridgeHelperCheck()] : []),
      await poolCheck(rt),
      ...await machineChecks(rt, kvm && virt ? "kvm" : "qemu"),
    );
  }
  checks.push(...await (await import("./store_checks.ts")).storeChecks(rt));
  return checks;
}

export async function doctor(rt: Runtime): Promise<void> {
  const checks = await runChecks(rt);
  const rows = [["CHECK", "STATUS", "DETAIL"]];
  for (const c of checks) {
    rows.push([c.name, c.ok === true ? "ok" : c.ok === "warn" ? "warn" : "FAIL", c.detail]);
  }
  rt.output.out(renderTable(rows));
  const fixes = checks.filter((c) => c.fix);
  if (fixes.length > 0) rt.output.out("\nTo fix:\n" + fixes.map((c) => `  ${c.name}: ${c.fix}\n`).join(""));
  if (checks.some((c) => c.ok === false)) throw new CommandFailed("some checks failed");
}
