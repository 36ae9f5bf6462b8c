/**
 * Static addresses with netplan (Ubuntu): one file of lv's own, /etc/netplan/90-lv.yaml, each interface
 * matched by MAC, then `netplan generate` (checks every file, changes no interface) and `netplan apply`.
 * When either fails, lv's file goes back to what it was (and is generated again), so the guest's other
 * configuration and connections stay as they were.
 */
import { stringify } from "yaml";
import { type GuestOp, tail } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import type { StaticInterface } from "./static_interfaces.ts";

/** lv's file: after the box's own (cloud-init's 50-cloud-init.yaml, installers' 00-/01-). */
export const NETPLAN_FILE = "/etc/netplan/90-lv.yaml";

/** lv's netplan file for the interfaces (ids lv-MAC). */
export function netplanConfig(interfaces: StaticInterface[]): string {
  const ethernets: Record<string, unknown> = {};
  for (const ifc of interfaces) {
    ethernets[`lv-${ifc.mac.replace(/:/g, "").toLowerCase()}`] = {
      match: { macaddress: ifc.mac.toLowerCase() },
      addresses: [`${ifc.address}/${ifc.prefix}`],
      dhcp4: false,
      dhcp6: false,
    };
  }
  return `# Written by lv: static addresses\n${stringify({ network: { version: 2, ethernets } })}`;
}

export const netplan: NetworkFamily = {
  name: "netplan",
  looksFor: "/etc/netplan and the netplan command",

  probe: [{ list: "/etc/netplan" }, { run: ["test", "-x", "/usr/sbin/netplan"] }],
  matches: ([dir, netplan]) => dir.names !== undefined && netplan.run?.code === 0,

  survey: [],
  // 0600 root: read as root; with the addresses in force.
  reads: () => [{ read: NETPLAN_FILE }, ADDRESSES],

  plan(interfaces, known) {
    const before = known.text(NETPLAN_FILE);
    const after = interfaces.length > 0 ? netplanConfig(interfaces) : undefined;
    // lv's file as wanted and its addresses in force: nothing to do. The file alone is not enough: a pass cut
    // between writing it and `netplan apply` would leave the addresses for the next reboot.
    const live = known.run(ADDRESSES.run).stdout;
    if (before === after && interfaces.every((ifc) => inForce(live, ifc))) {
      return { step: "netplan", ops: [] };
    }
    const steps = ["generate", "apply"];
    return {
      step: "netplan",
      ops: [write(after), ...steps.map((step) => ({ run: ["netplan", step] }))],
      // generate or apply failed: lv's file back as it was, generated again (its result does not matter).
      recover: (failed, r) =>
        failed === 0 ? undefined : {
          undo: [write(before), { run: ["netplan", "generate"], mayFail: true }],
          message: `netplan ${steps[failed - 1]}: exit code ${r.run!.code}: ${
            tail(r.run!.stderr || r.run!.stdout, 5)
          } (lv's ${NETPLAN_FILE} put back as it was)`,
        },
    };
  },
};

/** The addresses in force, one line each ("3: eth1    inet 10.9.0.5/24 brd ... scope global eth1 ..."). */
const ADDRESSES = { run: ["ip", "-o", "-4", "addr", "show"] };

function inForce(ipOutput: string, ifc: StaticInterface): boolean {
  return ipOutput.split(/\s+/).includes(`${ifc.address}/${ifc.prefix}`);
}

/** What makes lv's file hold `content` (0600, as netplan wants), or removes it. */
function write(content: string | undefined): GuestOp {
  return content === undefined
    ? { run: ["rm", "-f", NETPLAN_FILE] }
    : { put: NETPLAN_FILE, content, mode: 0o600 };
}
