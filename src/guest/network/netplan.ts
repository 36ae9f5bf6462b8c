/**
 * Static addresses with netplan (Ubuntu): one file of lv's own, /etc/netplan/90-lv.yaml, each interface
 * matched by MAC, then `netplan generate` (checks every file, changes no interface) and `netplan apply`.
 * When either fails, lv's file goes back to what it was (and is generated again), so the guest's other
 * configuration and connections stay as they were.
 */
import { stringify } from "yaml";
import { check, type GuestSession, tail } from "../session.ts";
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

  async configure(session, interfaces) {
    const before = await session.readFile(NETPLAN_FILE, { sudo: true });
    const after = interfaces.length > 0 ? netplanConfig(interfaces) : undefined;
    if (before === after) return;
    await write(session, after);
    for (const step of ["generate", "apply"]) {
      const r = await session.run(["netplan", step], { sudo: true });
      if (r.code !== 0) {
        await write(session, before);
        await session.run(["netplan", "generate"], { sudo: true });
        throw new Error(
          `netplan ${step}: exit code ${r.code}: ${
            tail(r.stderr || r.stdout, 5)
          } (lv's ${NETPLAN_FILE} put back as it was)`,
        );
      }
    }
  },
};

/** Makes lv's file hold `content` (0600, as netplan wants), or removes it. */
async function write(session: GuestSession, content: string | undefined): Promise<void> {
  if (content === undefined) await check(session, ["rm", "-f", NETPLAN_FILE], { sudo: true });
  else await session.putFile(NETPLAN_FILE, content, { sudo: true, mode: 0o600 });
}
