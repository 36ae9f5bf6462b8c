/**
 * Configuration tools for the fake guest, as far as lv's provisioners use them: ansible-playbook, puppet,
 * salt-call, docker and podman, and apt-get to install one. Each answers --version, checks what the real one
 * checks first (its files exist, root where it needs root), and records its runs in `runs`.
 *
 * @module
 */
import { posix } from "node:path";
import { fail, ok } from "./fake_guest_commands.ts";
import type { Caller, FakeGuest } from "./fake_guest.ts";

/** The fake tools' state: their runs (argv, without --version), and docker's and podman's images and containers. */
export interface FakeTools {
  runs: { argv: string[]; root: boolean; cwd?: string }[];
  images: Set<string>;
  /** Container name to its `run` argv. */
  containers: Map<string, string[]>;
}

const version = (args: string[]) => args[0] === "--version";

/** Installs `names` (default all) in the guest; returns their shared state. */
export function installTools(
  guest: FakeGuest,
  names = ["ansible-playbook", "puppet", "salt-call", "docker", "podman"],
): FakeTools {
  const tools: FakeTools = { runs: [], images: new Set(), containers: new Map() };
  const record = (argv: string[], caller: Caller) =>
    tools.runs.push({ argv, root: caller.root, cwd: caller.env.PWD });
  const readable = (path: string, caller: Caller) => {
    const file = guest.files.get(path);
    return file !== undefined && (caller.root || file.owner === caller.user || (file.mode & 0o004) !== 0);
  };
  const commands: Record<string, (args: string[], caller: Caller) => ReturnType<typeof ok>> = {
    "ansible-playbook"(args, caller) {
      if (version(args)) return ok("ansible-playbook [core 2.14.18]\n");
      record(["ansible-playbook", ...args], caller);
      const inventory = args[args.indexOf("--inventory") + 1];
      if (!readable(inventory, caller)) {
        return fail(1, `[WARNING]: Unable to parse ${inventory} as an inventory source`);
      }
      const playbook = posix.resolve(caller.env.PWD ?? guest.users.get(caller.user)!.home, args.at(-1)!);
      if (!guest.files.has(playbook)) {
        return fail(1, `ERROR! the playbook: ${args.at(-1)} could not be found`);
      }
      return ok("PLAY RECAP *****\nweb : ok=1 changed=1 failed=0\n");
    },
    puppet(args, caller) {
      if (version(args)) return ok("7.23.0\n");
      record(["puppet", ...args], caller);
      const manifest = args.at(-1)!;
      if (!guest.files.has(manifest)) {
        return fail(1, `Error: Could not find file ${manifest}`);
      }
      // --detailed-exitcodes: 2, changes applied.
      return { code: 2, stdout: "Notice: Applied catalog in 0.02 seconds\n", stderr: "" };
    },
    "salt-call"(args, caller) {
      if (version(args)) return ok("salt-call 3006.4 (Sulfur)\n");
      record(["salt-call", ...args], caller);
      if (!caller.root) return fail(1, "[CRITICAL] Salt must be run as root (the cache is /var/cache/salt)");
      const root = args.find((a) => a.startsWith("--file-root="))?.slice(12) ?? "/srv/salt";
      if (![...guest.files.keys()].some((f) => f.startsWith(`${root}/`))) {
        return fail(
          1,
          "local:\n    Data failed to compile:\n    No Top file or master_tops data matches found.",
        );
      }
      return ok("local:\nSummary for local\nSucceeded: 1 (changed=1)\nFailed:    0\n");
    },
  };
  for (const program of ["docker", "podman"]) {
    commands[program] = (args, caller) => {
      if (version(args)) return ok(`${program} version 20.10.24\n`);
      record([program, ...args], caller);
      if (!caller.root) {
        return fail(1, `permission denied while trying to connect to the ${program} daemon socket`);
      }
      const [verb, ...rest] = args;
      if (verb === "pull") {
        if (/[A-Z]/.test(rest[0].split(":")[0])) {
          return fail(125, "invalid reference format: repository name must be lowercase");
        }
        tools.images.add(rest[0]);
        return ok(`${rest[0]}: Pulled\n`);
      }
      if (verb === "rm") {
        const name = rest.at(-1)!;
        return tools.containers.delete(name) ? ok(`${name}\n`) : fail(1, `Error: No such container: ${name}`);
      }
      if (verb === "run") {
        const name = rest[rest.indexOf("--name") + 1];
        if (tools.containers.has(name)) {
          return fail(
            125,
            `docker: Error response from daemon: Conflict. The container name "/${name}" is already in use.`,
          );
        }
        tools.containers.set(name, args);
        return ok("4f2a\n");
      }
      return fail(1, `unknown command "${verb}" for "${program}"`);
    };
  }
  for (const name of names) {
    guest.installed.add(name);
    guest.commandTable.set(name, (_g, args, caller) => commands[name](args, caller));
  }
  return tools;
}

/** apt-get in the guest: `install -y PKG` (as root) puts the programs of `packages[PKG]` on the PATH. */
export function installAptGet(guest: FakeGuest, packages: Record<string, string[]>): string[][] {
  const calls: string[][] = [];
  guest.installed.add("apt-get");
  guest.commandTable.set("apt-get", (g, args, caller) => {
    if (version(args)) return ok("apt 2.6.1 (amd64)\n");
    calls.push(args);
    if (!caller.root) {
      return fail(
        100,
        "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)",
      );
    }
    if (args[0] === "update") return ok("Reading package lists...\n");
    const pkg = args.at(-1)!;
    const programs = packages[pkg];
    if (args[0] !== "install" || !programs) return fail(100, `E: Unable to locate package ${pkg}`);
    for (const p of programs) g.installed.add(p);
    return ok(`Setting up ${pkg} ...\n`);
  });
  return calls;
}
