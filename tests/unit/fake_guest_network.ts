/**
 * The fake guest (fake_guest.ts) as a guest of another OS family: ifupdown (Debian's boxes), netplan
 * (Ubuntu) or NetworkManager (Fedora, RHEL). Each sets the box's own files up as such a box ships them and
 * adds the family's commands, which behave as the real ones do as far as lv uses them: they need root, read
 * the configuration files, fail on what the real command rejects, and keep the interfaces' state (what is up
 * with which address) for the tests to look at.
 *
 * @module
 */
import { parse } from "yaml";
import type { RunResult } from "../../src/guest/session.ts";
import type { Caller, FakeGuest } from "./fake_guest.ts";
import type { Command } from "./fake_guest_commands.ts";

const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
const fail = (code: number, stderr: string): RunResult => ({ code, stdout: "", stderr: `${stderr}\n` });

function install(guest: FakeGuest, commands: Record<string, Command>): void {
  for (const [name, run] of Object.entries(commands)) {
    guest.installed.add(name);
    guest.commandTable.set(name, run);
  }
  guest.installed.add("test");
  guest.commandTable.set("test", testCommand);
}

/** test -x/-f/-e/-d PATH, on the fake's files and directories. */
const testCommand: Command = (guest, args) => {
  const [flag, path] = args;
  const file = guest.files.get(path);
  const found = flag === "-d"
    ? guest.dirs.has(path)
    : flag === "-x"
    ? !!file && (file.mode & 0o111) !== 0
    : flag === "-f"
    ? !!file
    : !!file || guest.dirs.has(path);
  return { code: found ? 0 : 1, stdout: "", stderr: "" };
};

const needRoot = (caller: Caller, what: string): RunResult | undefined =>
  caller.root ? undefined : fail(1, `${what}: Permission denied`);

/** The MAC of the guest's interface `name`. */
function macOf(guest: FakeGuest, name: string): string | undefined {
  return guest.read(`/sys/class/net/${name}/address`)?.trim().toLowerCase();
}

function interfaceWithMac(guest: FakeGuest, mac: string): string | undefined {
  for (const path of guest.files.keys()) {
    const m = /^\/sys\/class\/net\/([^/]+)\/address$/.exec(path);
    if (m && macOf(guest, m[1]) === mac.toLowerCase()) return m[1];
  }
  return undefined;
}

// ---------------------------------------------------------------- ifupdown

export interface IfupdownState {
  /** Interfaces up, with their address ("dhcp" for DHCP). */
  up: Map<string, string>;
}

export const IFUPDOWN_MAIN = `# The loopback network interface, DHCP on the first NIC; more in interfaces.d.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
`;

/** The stanzas ifupdown reads: /etc/network/interfaces and, when it sources them, interfaces.d's files. */
function ifupdownConfig(guest: FakeGuest): string {
  const main = guest.read("/etc/network/interfaces") ?? "";
  let text = main;
  if (/^source \/etc\/network\/interfaces\.d\/\*$/m.test(main)) {
    for (const [path, file] of guest.files) {
      if (path.startsWith("/etc/network/interfaces.d/")) text += `\n${file.content}`;
    }
  }
  return text;
}

/** Makes `guest` a Debian box with ifupdown: systemd-networkd not running, DHCP on eth0 from /etc/network/interfaces. */
export function asIfupdownGuest(guest: FakeGuest, main = IFUPDOWN_MAIN): IfupdownState {
  const state: IfupdownState = { up: new Map([["lo", "127.0.0.1/8"], ["eth0", "dhcp"]]) };
  guest.activeServices.delete("systemd-networkd");
  guest.dirs.add("/etc/network");
  guest.dirs.add("/etc/network/interfaces.d");
  guest.files.set("/etc/network/interfaces", { content: main, mode: 0o644, owner: "root" });
  guest.files.set("/sbin/ifup", { content: "", mode: 0o755, owner: "root" });
  install(guest, {
    ifup(guest, args, caller) {
      const name = args.at(-1)!;
      const denied = needRoot(caller, `ifup: failed to open lockfile /run/network/.ifstate.lock`);
      if (denied) return denied;
      if (state.up.has(name)) {
        return { code: 0, stdout: "", stderr: `ifup: interface ${name} already configured\n` };
      }
      const config = ifupdownConfig(guest);
      const stanza = new RegExp(`^iface ${name} inet (\\S+)\\n((?:[ \\t]+.*\\n?)*)`, "m").exec(config);
      if (!stanza) return fail(1, `ifup: unknown interface ${name}`);
      if (!macOf(guest, name)) return fail(1, `Cannot find device "${name}"`);
      const address = stanza[1] === "static" ? /address (\S+)/.exec(stanza[2])?.[1] : "dhcp";
      if (!address) return fail(1, `ifup: missing required variable: address`);
      state.up.set(name, address);
      return ok();
    },
    ifdown(_guest, args, caller) {
      const denied = needRoot(caller, `ifdown: failed to open lockfile /run/network/.ifstate.lock`);
      if (denied) return denied;
      const name = args.at(-1)!;
      if (!state.up.delete(name)) {
        return { code: 0, stdout: "", stderr: `ifdown: interface ${name} not configured\n` };
      }
      return ok();
    },
  });
  return state;
}

// ---------------------------------------------------------------- netplan

export interface NetplanState {
  /** Addresses in force per interface name after the last `netplan apply` ("dhcp" for DHCP). */
  applied: Map<string, string>;
  /** Make the next `netplan apply` fail as it does when networkd cannot be restarted. */
  failApply: boolean;
}

export const NETPLAN_BOX = `network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      dhcp4: true
`;

interface NetplanEthernet {
  match?: { macaddress?: string };
  addresses?: string[];
  dhcp4?: boolean;
}

/** What netplan generate makes of /etc/netplan/*.yaml: addresses by interface name, or a parse error. */
function netplanGenerate(guest: FakeGuest): Map<string, string> | RunResult {
  const out = new Map<string, string>();
  const files = [...guest.files.keys()].filter((p) => /^\/etc\/netplan\/[^/]+\.yaml$/.test(p)).sort();
  for (const path of files) {
    let doc: { network?: { ethernets?: Record<string, NetplanEthernet> } };
    try {
      doc = parse(guest.read(path)!);
    } catch (e) {
      return fail(1, `${path}: ${(e as Error).message.split("\n")[0]}`);
    }
    for (const [id, eth] of Object.entries(doc?.network?.ethernets ?? {})) {
      const name = eth.match?.macaddress ? interfaceWithMac(guest, eth.match.macaddress) : id;
      if (!name) continue; // netplan skips a definition no device matches
      if (out.has(name)) continue; // the first definition of a device wins, as in networkd
      out.set(name, eth.dhcp4 ? "dhcp" : eth.addresses?.[0] ?? "none");
    }
  }
  return out;
}

/** Makes `guest` an Ubuntu-like box: netplan rendering to systemd-networkd, DHCP on eth0 (01-box.yaml). */
export function asNetplanGuest(guest: FakeGuest): NetplanState {
  const state: NetplanState = { applied: new Map([["eth0", "dhcp"]]), failApply: false };
  guest.dirs.add("/etc/netplan");
  guest.files.set("/etc/netplan/01-box.yaml", { content: NETPLAN_BOX, mode: 0o600, owner: "root" });
  guest.files.set("/usr/sbin/netplan", { content: "", mode: 0o755, owner: "root" });
  install(guest, {
    netplan(guest, args, caller) {
      const denied = needRoot(caller, "netplan");
      if (denied) return denied;
      const generated = netplanGenerate(guest);
      if ("code" in generated) return generated;
      if (args[0] === "generate") return ok();
      if (args[0] !== "apply") return fail(1, `netplan: invalid choice: '${args[0]}'`);
      if (state.failApply) {
        state.failApply = false;
        return fail(
          1,
          "Failed to restart systemd-networkd.service: Unit systemd-networkd.service is masked.",
        );
      }
      state.applied = generated;
      return ok();
    },
    // `ip -o -4 addr show` as iproute2 prints it: the addresses in force (eth0's lease: the SSH address).
    ip(guest, args) {
      if (args.join(" ") !== "-o -4 addr show") return fail(1, `fake ip: ${args.join(" ")} not known`);
      const names = [...state.applied.keys()].sort();
      return ok(
        names.map((name, i) => {
          const applied = state.applied.get(name)!;
          const address = applied === "dhcp" ? `${[...guest.addresses][0]}/24` : applied;
          return applied === "none"
            ? ""
            : `${i + 2}: ${name}    inet ${address} scope global ${name}\\       ` +
              `valid_lft forever preferred_lft forever\n`;
        }).join(""),
      );
    },
  });
  return state;
}

// ---------------------------------------------------------------- NetworkManager

export interface NmProfile {
  name: string;
  /** 802-3-ethernet.mac-address, upper case as nmcli shows it; none: any device. */
  mac?: string;
  method: "auto" | "manual";
  addresses: string;
  /** The device it is active on. */
  device?: string;
}

export interface NetworkManagerState {
  profiles: NmProfile[];
  /** Make the next `nmcli connection up` fail as it does when activation fails. */
  failUp: boolean;
}

const NM_SETTINGS: Record<string, (p: NmProfile, v: string) => void> = {
  "802-3-ethernet.mac-address": (p, v) => p.mac = v.toUpperCase(),
  "ipv4.method": (p, v) => p.method = v as NmProfile["method"],
  "ipv4.addresses": (p, v) => p.addresses = v,
  "ipv6.method": () => {},
  "connection.autoconnect": () => {},
  "connection.autoconnect-priority": () => {},
};

function nmSet(profile: NmProfile, settings: string[]): RunResult | undefined {
  for (let i = 0; i < settings.length; i += 2) {
    const set = NM_SETTINGS[settings[i]];
    if (!set) return fail(2, `Error: invalid or not allowed setting '${settings[i]}'.`);
    set(profile, settings[i + 1]);
  }
  return undefined;
}

/** Makes `guest` a Fedora/RHEL-like box: NetworkManager, its automatic profile active on eth0. */
export function asNetworkManagerGuest(guest: FakeGuest): NetworkManagerState {
  const state: NetworkManagerState = {
    profiles: [{
      name: "Wired connection 1",
      mac: "52:54:00:00:00:01".toUpperCase(),
      method: "auto",
      addresses: "",
      device: "eth0",
    }],
    failUp: false,
  };
  guest.activeServices.delete("systemd-networkd");
  guest.activeServices.add("NetworkManager");
  const find = (name: string) => state.profiles.find((p) => p.name === name);
  install(guest, {
    nmcli(guest, args, caller) {
      if (args[0] === "-g" && args[1] === "NAME" && args[2] === "connection" && args[3] === "show") {
        return ok(state.profiles.map((p) => `${p.name}\n`).join(""));
      }
      const denied = caller.root
        ? undefined
        : fail(1, "Error: Failed to add/modify connection: Insufficient privileges.");
      if (denied) return denied;
      const [object, verb, ...rest] = args;
      if (object !== "connection") return fail(2, `Error: argument '${object}' not understood.`);
      if (verb === "add") {
        const name = rest[rest.indexOf("con-name") + 1];
        const settingsStart = rest.indexOf("ifname") >= 0
          ? rest.indexOf("ifname") + 2
          : rest.indexOf("con-name") + 2;
        const profile: NmProfile = { name, method: "auto", addresses: "" };
        const bad = nmSet(profile, rest.slice(settingsStart));
        if (bad) return bad;
        state.profiles.push(profile);
        return ok(`Connection '${name}' successfully added.\n`);
      }
      const profile = find(rest[0]);
      if (!profile) return fail(10, `Error: unknown connection '${rest[0]}'.`);
      if (verb === "modify") return nmSet(profile, rest.slice(1)) ?? ok();
      if (verb === "delete") {
        state.profiles = state.profiles.filter((p) => p !== profile);
        return ok(`Connection '${profile.name}' successfully deleted.\n`);
      }
      if (verb === "up") {
        const device = profile.mac ? interfaceWithMac(guest, profile.mac) : undefined;
        if (state.failUp || !device) {
          state.failUp = false;
          return fail(
            4,
            "Error: Connection activation failed: No suitable device found for this connection.",
          );
        }
        for (const p of state.profiles) if (p.device === device) p.device = undefined;
        profile.device = device;
        return ok("Connection successfully activated.\n");
      }
      return fail(2, `Error: argument '${verb}' not understood.`);
    },
  });
  return state;
}
