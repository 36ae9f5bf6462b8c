/**
 * String formats of resource fields (names, addresses, paths, ...): one entry
 * per format with the rule in words (used in messages and `lv explain`), a
 * JSON Schema pattern, and the check itself.
 *
 * Every format that ends up in libvirt XML, a virsh argument, a file name or a
 * guest shell rejects XML and shell metacharacters by construction: they only
 * allow the characters they list.
 *
 * @module
 */

import { parseVersionConstraint } from "./vagrant_version.ts";
import { isMulticastMac, parseIPv4, parseMac, prefixFromNetmask } from "./validate_ipv4.ts";

/** The string formats a field can have. */
export type StringFormat =
  | "name"
  | "libvirt-name"
  | "ifname"
  | "hostname"
  | "ipv4"
  | "netmask"
  | "mac"
  | "checksum"
  | "box-source"
  | "version-constraint"
  | "disk-device"
  | "label-key"
  | "label-value"
  | "env-name"
  | "host-path"
  | "guest-path"
  | "nic-model"
  | "user"
  | "host-file"
  | "machine-type"
  | "cpu-model"
  | "cpu-feature"
  | "usb-id"
  | "pci-address"
  | "disk-serial";

/** Outcome of a format check: the (possibly normalized) value, or what is wrong. */
export type FormatResult = { ok: true; value: string } | { ok: false; message: string; hint?: string };

/** A string format. */
export interface Format {
  /** The rule, completing "must be ...": `a name: lowercase letters, ...`. */
  rule: string;
  /** ECMAScript regular expression for JSON Schema (a necessary condition; the check may be stricter). */
  pattern?: string;
  maxLength?: number;
  /** JSON Schema `format` keyword where one exists. */
  jsonFormat?: string;
  check(text: string): FormatResult;
}

const ok = (value: string): FormatResult => ({ ok: true, value });
const bad = (message: string, hint?: string): FormatResult =>
  hint === undefined ? { ok: false, message } : { ok: false, message, hint };

const NAME_RULE =
  'a name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 63 characters';
const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const NAME_RE = new RegExp(NAME_PATTERN);

/** A valid name close to `text` (lowercased, other characters turned into "-"), if any. */
export function suggestName(text: string): string | undefined {
  if (!/^[A-Za-z0-9._ -]+$/.test(text)) return undefined; // do not guess at names with other characters
  const s = text.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/\.{2,}/g, ".")
    .replace(/-*\.-*/g, ".").replace(/^[-.]+|[-.]+$/g, "").slice(0, 63).replace(/[-.]+$/, "");
  return s !== "" && s !== text && text.length <= 63 && NAME_RE.test(s) ? s : undefined;
}

function regexFormat(
  rule: string,
  pattern: string,
  maxLength: number,
  hint?: (s: string) => string | undefined,
): Format {
  const re = new RegExp(pattern);
  return {
    rule,
    pattern,
    maxLength,
    check(text) {
      if (text.length <= maxLength && re.test(text)) return ok(text);
      return bad(`must be ${rule}`, hint?.(text));
    },
  };
}

const HOST_LABEL = "[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?";
const LABEL_NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
const DNS_SUBDOMAIN = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const LABEL_KEY_RE = new RegExp(`^(${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`);
const IPV4_PATTERN =
  "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$";
const UNSAFE_SCHEMES = /^(file|ftps?|sftp|scp|ssh|rsync|s3|gs|data|javascript|vbscript|smb|nfs|git|mailto):/i;

/** Every format, by name. */
export const FORMATS: Record<StringFormat, Format> = {
  name: regexFormat(NAME_RULE, NAME_PATTERN, 63, (s) => {
    const suggestion = suggestName(s);
    return suggestion === undefined ? undefined : `did you mean ${JSON.stringify(suggestion)}?`;
  }),
  "libvirt-name": regexFormat(
    'a libvirt name: letters, digits, "_", ".", "+" and "-", starting with a letter, digit or "_", at most 63 characters',
    "^[A-Za-z0-9_][A-Za-z0-9_.+-]*$",
    63,
  ),
  ifname: regexFormat(
    'a host network interface name: letters, digits, "_", "." and "-", at most 15 characters',
    "^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
    15,
  ),
  hostname: regexFormat(
    'a host name: dot-separated labels of letters, digits and "-" (not at either end of a label), at most 253 characters',
    `^${HOST_LABEL}(\\.${HOST_LABEL})*$`,
    253,
  ),
  ipv4: {
    rule: "an IPv4 address such as 192.168.121.10",
    pattern: IPV4_PATTERN,
    jsonFormat: "ipv4",
    maxLength: 15,
    check(text) {
      if (parseIPv4(text) !== undefined) return ok(text);
      if (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(text)) {
        return bad("must be an IPv4 address without a prefix", "give the prefix length in its own field");
      }
      if (/^\d+\.\d+\.\d+\.\d+$/.test(text) && /(^|\.)0\d/.test(text)) {
        return bad("must be an IPv4 address without leading zeros");
      }
      return bad("must be an IPv4 address such as 192.168.121.10");
    },
  },
  netmask: {
    rule: "a netmask such as 255.255.255.0",
    pattern: IPV4_PATTERN,
    maxLength: 15,
    check(text) {
      const prefix = prefixFromNetmask(text);
      if (prefix === undefined) {
        return bad("must be a netmask such as 255.255.255.0 (contiguous one bits, then zero bits)");
      }
      return ok(text);
    },
  },
  mac: {
    rule: "a MAC address such as 52:54:00:12:34:56 (unicast)",
    pattern: "^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$",
    maxLength: 17,
    check(text) {
      const mac = parseMac(text);
      if (mac === undefined) {
        const dashed = /^[0-9A-Fa-f]{2}([-.]?[0-9A-Fa-f]{2}){5}$/.test(text)
          ? text.replace(/[-.]/g, "").replace(/(..)(?!$)/g, "$1:").toLowerCase()
          : undefined;
        return bad(
          "must be a MAC address such as 52:54:00:12:34:56",
          dashed === undefined ? undefined : `did you mean ${JSON.stringify(dashed)}?`,
        );
      }
      if (isMulticastMac(mac)) {
        return bad(
          "must be a unicast MAC address (the lowest bit of the first octet must be 0)",
          "52:54:00:… is the usual prefix for VMs",
        );
      }
      if (mac === "00:00:00:00:00:00") return bad("must not be the all-zero MAC address");
      return ok(mac);
    },
  },
  checksum: {
    rule: 'a sha256 checksum: 64 hex digits, optionally prefixed with "sha256:"',
    pattern: "^(sha256:)?[0-9A-Fa-f]{64}$",
    maxLength: 71,
    check(text) {
      const m = /^(?:([A-Za-z0-9]+):)?(.*)$/.exec(text)!;
      const algorithm = m[1]?.toLowerCase();
      if (algorithm !== undefined && algorithm !== "sha256") {
        return bad(
          'must be a sha256 checksum ("sha256:" and 64 hex digits)',
          `${algorithm} is not supported`,
        );
      }
      if (!/^[0-9A-Fa-f]{64}$/.test(m[2])) {
        const hex = /^[0-9A-Fa-f]*$/.test(m[2]);
        return bad(
          'must be a sha256 checksum: 64 hex digits, optionally prefixed with "sha256:"',
          hex ? `that is ${m[2].length} hex digits` : undefined,
        );
      }
      return ok(text);
    },
  },
  "box-source": {
    rule:
      "a Vagrant catalog name (USER/NAME), a local path, or an http(s) URL of a qcow2/raw image, a Vagrant .box or box metadata JSON",
    maxLength: 4096,
    check(text) {
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
      if (scheme !== null) {
        const name = scheme[1].toLowerCase();
        if (name !== "http" && name !== "https") {
          return bad(
            "must be a local path or an http(s) URL",
            name === "file" ? "give the path itself, without file://" : `${name}:// is not supported`,
          );
        }
        let url: URL;
        try {
          url = new URL(text);
        } catch {
          return bad("must be a valid http(s) URL");
        }
        if (url.hostname === "") return bad("must be a valid http(s) URL with a host");
        return ok(text);
      }
      if (UNSAFE_SCHEMES.test(text)) {
        return bad("must be a local path or an http(s) URL", `${text.split(":")[0]}: is not supported`);
      }
      return ok(text);
    },
  },
  "version-constraint": {
    rule:
      'a Vagrant version constraint: requirements separated by ",", each an optional operator (=, !=, >, >=, <, <=, ~>) and a version such as 4.3.12',
    maxLength: 200,
    check(text) {
      const parsed = parseVersionConstraint(text);
      return parsed.ok ? ok(text) : bad(`must be a Vagrant version constraint: ${parsed.message}`);
    },
  },
  "disk-device": regexFormat(
    "a guest disk device name such as vda, vdb, sda or hda",
    "^(vd|sd|hd|xvd)[a-z]{1,3}$",
    6,
  ),
  "label-key": {
    rule:
      'a label key: an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    pattern: LABEL_KEY_RE.source,
    maxLength: 317,
    check(text) {
      const slash = text.lastIndexOf("/");
      const prefix = slash >= 0 ? text.slice(0, slash) : "";
      if (LABEL_KEY_RE.test(text) && prefix.length <= 253 && text.length - slash - 1 <= 63) return ok(text);
      return bad(`must be ${this.rule}`);
    },
  },
  "label-value": regexFormat(
    'a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    `^(${LABEL_NAME})?$`,
    63,
  ),
  "env-name": regexFormat(
    'an environment variable name: letters, digits and "_", not starting with a digit',
    "^[A-Za-z_][A-Za-z0-9_]*$",
    255,
  ),
  "host-path": {
    rule: "a path on the host running lv",
    maxLength: 4096,
    check: (text) => ok(text),
  },
  "guest-path": {
    rule: 'an absolute path in the guest (starting with "/")',
    pattern: "^/",
    maxLength: 4096,
    check(text) {
      return text.startsWith("/") ? ok(text) : bad(`must be ${this.rule}`);
    },
  },
  "nic-model": regexFormat(
    'a NIC model such as virtio, e1000 or rtl8139: lowercase letters, digits, "_" and "-"',
    "^[a-z0-9][a-z0-9_-]*$",
    32,
  ),
  "host-file": regexFormat(
    "an absolute path of a file on the libvirt host",
    "^/[^\\n\\r\\t]*[^/\\n\\r\\t]$",
    4096,
  ),
  "machine-type": regexFormat(
    'a machine type such as pc, q35 or pc-q35-7.2: lowercase letters, digits, ".", "_" and "-"',
    "^[a-z0-9][a-z0-9._-]*$",
    64,
  ),
  "cpu-model": regexFormat(
    'a CPU model such as qemu64 or Skylake-Client: letters, digits, ".", "_" and "-"',
    "^[A-Za-z0-9][A-Za-z0-9._-]*$",
    64,
  ),
  "cpu-feature": regexFormat(
    'a CPU feature such as vmx or avx2: lowercase letters, digits, ".", "_" and "-"',
    "^[a-z0-9][a-z0-9._-]*$",
    64,
  ),
  "usb-id": regexFormat(
    "a USB vendor or product id: 0x and 4 hex digits, e.g. 0x1d6b",
    "^0x[0-9a-fA-F]{4}$",
    6,
  ),
  "pci-address": regexFormat(
    "a PCI address domain:bus:slot.function, e.g. 0000:03:00.0",
    "^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\.[0-7]$",
    12,
  ),
  "disk-serial": regexFormat(
    'a disk serial: letters, digits, "_", ".", "+", "-", at most 20 characters',
    "^[A-Za-z0-9_.+-]+$",
    20,
  ),
  user: regexFormat(
    'a user name: letters, digits, "_", "." and "-", not starting with a digit, "." or "-", at most 32 characters',
    "^[A-Za-z_][A-Za-z0-9_.-]*$",
    32,
  ),
};
