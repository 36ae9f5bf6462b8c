/**
 * Static addresses with ifupdown (Debian's own boxes): one /etc/network/interfaces.d/lv-MAC stanza per
 * interface (`auto NAME` + `iface NAME inet static`), brought up with ifup. Only lv's files are written or
 * removed, and only the listed interfaces (and those whose lv file goes) are taken down and up.
 */
import type { GuestOp } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { addressReads, INTERFACE_LIST, interfaceNames, nameOf } from "./interface_names.ts";
import type { StaticInterface } from "./static_interfaces.ts";

const MAIN = "/etc/network/interfaces";
const DIR = "/etc/network/interfaces.d";
/** lv's files in DIR, and only they, start with this (letters, digits and - only: source-directory's rule). */
const PREFIX = "lv-";

/** The name of lv's file for an interface. */
export function ifupdownFileName(ifc: StaticInterface): string {
  return `${PREFIX}${ifc.mac.replace(/:/g, "").toLowerCase()}`;
}

/** The stanza for the interface `name`. */
export function ifupdownStanza(ifc: StaticInterface, name: string): string {
  return `# Written by lv: static address for ${ifc.mac}\nauto ${name}\niface ${name} inet static\n    address ${ifc.address}/${ifc.prefix}\n`;
}

/** Whether /etc/network/interfaces reads the files of interfaces.d (source or source-directory). */
export function sourcesInterfacesD(main: string): boolean {
  return main.split("\n").some((line) =>
    /^\s*source\s+\/etc\/network\/interfaces\.d\/\*\s*$/.test(line) ||
    /^\s*source-directory\s+(\/etc\/network\/)?interfaces\.d\/?\s*$/.test(line)
  );
}

export const ifupdown: NetworkFamily = {
  name: "ifupdown",
  looksFor: "/etc/network/interfaces and ifup",

  probe: [{ read: MAIN }, { run: ["test", "-x", "/sbin/ifup"] }],
  matches: ([main, ifup]) => main.text !== undefined && ifup.run?.code === 0,

  survey: [{ list: DIR }, INTERFACE_LIST],
  reads(interfaces, known) {
    const files = new Set([
      ...(known.names(DIR) ?? []).filter((file) => file.startsWith(PREFIX)),
      ...interfaces.map(ifupdownFileName),
    ]);
    return [
      { read: MAIN },
      ...addressReads(known),
      ...[...files].map((file) => ({ read: `${DIR}/${file}` })),
    ];
  },

  plan(interfaces, known) {
    const main = known.text(MAIN) ?? "";
    if (interfaces.length > 0 && !sourcesInterfacesD(main)) {
      throw new Error(
        `${MAIN} does not read ${DIR} (no "source ${DIR}/*" line): lv writes only files of its own there, so it cannot configure ${
          interfaces.map((i) => i.mac).join(", ")
        } on this guest`,
      );
    }
    const names = interfaceNames(known);
    const wanted = new Map(interfaces.map((ifc) => [ifupdownFileName(ifc), ifc]));
    const ops: GuestOp[] = [];
    for (const file of known.names(DIR) ?? []) {
      if (!file.startsWith(PREFIX) || wanted.has(file)) continue;
      ops.push(...down(known.text(`${DIR}/${file}`)), { run: ["rm", "-f", `${DIR}/${file}`] });
    }
    for (const [file, ifc] of wanted) {
      const name = nameOf(names, ifc.mac);
      const stanza = ifupdownStanza(ifc, name);
      const before = known.text(`${DIR}/${file}`);
      if (before !== stanza) {
        ops.push(...down(before), { put: `${DIR}/${file}`, content: stanza, mode: 0o644 });
      }
      // ifup of an interface already up is a no-op (exit 0).
      ops.push({ run: ["ifup", name] });
    }
    return { step: "ifupdown", ops };
  },
};

/** Takes down the interface an lv file of before configured (it may not be up: its failure is ignored). */
function down(stanza: string | undefined): GuestOp[] {
  const name = /^auto (\S+)$/m.exec(stanza ?? "")?.[1];
  return name ? [{ run: ["ifdown", name], mayFail: true }] : [];
}
