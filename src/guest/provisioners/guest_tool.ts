/**
 * The program a provisioner runs inside the guest (ansible-playbook, puppet, salt-call, docker, podman):
 * found, or installed with the guest's package manager when the provisioner asks, or a ToolMissingError that
 * names it (Ready=False ProvisionerToolMissing: not a hang, not a retry loop).
 */
import type { GuestSession } from "../session.ts";
import { tail } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";
import { ToolMissingError } from "./provisioner.ts";

/** The package managers lv installs with, in the order it looks for them, with their install command. */
const MANAGERS = [
  {
    name: "apt-get",
    install: (pkg: string) => ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", pkg],
  },
  { name: "dnf", install: (pkg: string) => ["dnf", "install", "-y", pkg] },
  { name: "yum", install: (pkg: string) => ["yum", "install", "-y", pkg] },
  { name: "zypper", install: (pkg: string) => ["zypper", "--non-interactive", "install", pkg] },
  { name: "apk", install: (pkg: string) => ["apk", "add", pkg] },
] as const;

export type PackageManager = typeof MANAGERS[number]["name"];

/** A program and how to install it: its package by manager (a manager not named has no package for it). */
export interface GuestTool {
  program: string;
  packages?: Partial<Record<PackageManager, string>>;
}

/** Whether the guest runs `program` (as root with `sudo`): it is not missing (exit code 127). */
async function has(session: GuestSession, program: string, sudo: boolean): Promise<boolean> {
  return (await session.run([program, "--version"], { sudo })).code !== 127;
}

/** The first package manager the guest has. */
async function packageManager(session: GuestSession): Promise<typeof MANAGERS[number] | undefined> {
  for (const m of MANAGERS) if (await has(session, m.name, false)) return m;
  return undefined;
}

/**
 * Makes sure the guest runs `tool.program`: found, else installed (`install`) with the first package manager
 * the guest has, else a ToolMissingError naming the program and what to do.
 */
export async function requireTool(
  ctx: GuestStepContext,
  label: string,
  options: { tool: GuestTool; sudo: boolean; install?: boolean },
): Promise<void> {
  const { tool, sudo } = options;
  if (await has(ctx.session, tool.program, sudo)) return;
  const missing =
    `${label}: ${tool.program} is not installed in the guest of domain/${ctx.dom.metadata.name}`;
  if (!options.install) {
    throw new ToolMissingError(
      `${missing}; use a box that has it${tool.packages ? " or set install: true" : ""}`,
    );
  }
  const manager = await packageManager(ctx.session);
  const pkg = manager && tool.packages?.[manager.name];
  if (!manager || !pkg) {
    throw new ToolMissingError(
      `${missing}, and lv cannot install it there: ${
        manager ? `no package for ${manager.name}` : "no apt-get, dnf, yum, zypper or apk"
      }`,
    );
  }
  await ctx.event("Installing", `${label}: installing ${pkg} with ${manager.name}`);
  const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
  const stream = (chunk: string) => ctx.progress(chunk, prefix);
  if (manager.name === "apt-get") {
    await ctx.session.run(["apt-get", "update"], { sudo: true, onStderr: stream });
  }
  const r = await ctx.session.run(manager.install(pkg), { sudo: true, onStdout: stream, onStderr: stream });
  if (r.code !== 0 || !await has(ctx.session, tool.program, sudo)) {
    throw new ToolMissingError(
      `${missing}, and ${manager.name} could not install ${pkg} (exit code ${r.code}): ${
        tail(r.stderr || r.stdout, 5)
      }`,
    );
  }
}
