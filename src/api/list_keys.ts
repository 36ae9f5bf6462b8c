/**
 * How `lv apply` matches the items of a list of objects between the file, the last apply and the stored
 * object (src/api/merge.ts), by the path of the list; `lv explain` shows `text`. Lists not named here
 * are replaced whole.
 *
 * @module
 */

/** A list's merge key. */
export interface ListKey {
  /** The key of one item. */
  key: (item: Record<string, unknown>, index: number) => string;
  /** For `lv explain` and README. */
  text: string;
}

export const LIST_KEYS: Record<string, ListKey> = {
  "spec.interfaces": {
    key: (i) => i.network !== undefined ? `network=${i.network}` : `dev=${i.dev}`,
    text: "network, or dev for a public interface",
  },
  "spec.disks": {
    key: (d) => d.volume !== undefined ? `volume=${d.volume}` : `device=${d.device}`,
    text: "volume, or device",
  },
  "spec.provision": {
    key: (p, i) => p.name !== undefined ? `name=${p.name}` : `#${i}`,
    text: "name, or position for unnamed provisioners",
  },
  "spec.syncedFolders": { key: (f) => `target=${f.target}`, text: "target" },
  "spec.forwardedPorts": { key: (p) => `host=${p.hostIp ?? ""}:${p.host}`, text: "hostIp and host" },
  "spec.dhcp.hosts": { key: (h) => `mac=${String(h.mac).toLowerCase()}`, text: "mac" },
};
