/** Kind names on the command line: singular, plural and short forms, any case. */
import { type Kind, KINDS } from "../api/types.ts";

const ALIASES: Record<string, Kind> = {
  box: "Box",
  boxes: "Box",
  volume: "Volume",
  volumes: "Volume",
  vol: "Volume",
  vols: "Volume",
  network: "Network",
  networks: "Network",
  net: "Network",
  nets: "Network",
  domain: "Domain",
  domains: "Domain",
  dom: "Domain",
  doms: "Domain",
  vm: "Domain",
  vms: "Domain",
};

/** The kind a command-line word names, or undefined. */
export function kindFromWord(word: string): Kind | undefined {
  return ALIASES[word.toLowerCase()];
}

export const KIND_WORDS = Object.keys(ALIASES);

/** "domain" for Domain. */
export function kindWord(kind: Kind): string {
  return kind.toLowerCase();
}

export function plural(kind: Kind): string {
  return kind === "Box" ? "boxes" : `${kind.toLowerCase()}s`;
}

export { KINDS };
