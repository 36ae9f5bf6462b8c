/** Static addresses with systemd-networkd: one /etc/systemd/network/05-lv-MAC.network per interface. */
import type { GuestOp } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { serviceActive, serviceActiveProbe } from "./service_active.ts";
import { addressReads, INTERFACE_LIST, interfaceNames } from "./interface_names.ts";
import type { StaticInterface } from "./static_interfaces.ts";

const DIR = "/etc/systemd/network";
/** lv's files in DIR, and only they, start with this. */
const PREFIX = "05-lv-";

/** The name of lv's file for an interface. */
export function networkdFileName(ifc: StaticInterface): string {
  return `${PREFIX}${ifc.mac.replace(/:/g, "")}.network`;
}

/** The .network unit matching the interface by MAC. */
export function networkdConfig(ifc: StaticInterface): string {
  return `# Written by lv: static address for ${ifc.mac}\n[Match]\nMACAddress=${ifc.mac}\n\n[Network]\nAddress=${ifc.address}/${ifc.prefix}\n`;
}

export const networkd: NetworkFamily = {
  name: "systemd-networkd",
  looksFor: "an active systemd-networkd service",

  probe: [serviceActiveProbe("systemd-networkd")],
  matches: ([active]) => serviceActive(active),

  survey: [{ list: DIR }, INTERFACE_LIST],
  reads: (_interfaces, known) => addressReads(known),

  plan(interfaces, known) {
    const wanted = new Map(interfaces.map((ifc) => [networkdFileName(ifc), ifc]));
    const stale = (known.names(DIR) ?? [])
      .filter((name) => name.startsWith(PREFIX) && name.endsWith(".network") && !wanted.has(name));
    const names = interfaceNames(known);
    // lv's files, the reload, then only the listed interfaces reconfigured.
    const ops: GuestOp[] = [];
    if (stale.length > 0) ops.push({ run: ["rm", "-f", ...stale.map((n) => `${DIR}/${n}`)] });
    for (const [name, ifc] of wanted) ops.push({ put: `${DIR}/${name}`, content: networkdConfig(ifc) });
    ops.push({ run: ["networkctl", "reload"] });
    for (const ifc of interfaces) {
      const name = names.get(ifc.mac.toLowerCase());
      if (name) ops.push({ run: ["networkctl", "reconfigure", name] });
    }
    return { step: "systemd-networkd", ops };
  },
};
