/**
 * The shell provisioner (vagrant's `shell`): an inline script or a file on this host, run in the guest by the
 * interpreter its shebang names (`#!/bin/bash`), as Vagrant does, or by /bin/sh when it names none.
 */
import type { ShellProvisioner } from "../../api/types.ts";
import type { GuestSession } from "../session.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** Held in the guest while a provisioner runs (util-linux flock, where the guest has it). */
export const PROVISION_LOCK = "/tmp/lv-provision.lock";

/** Whether a session's guest has util-linux flock: asked once a session. */
const hasFlock = new WeakMap<GuestSession, Promise<boolean>>();

function flockIn(session: GuestSession): Promise<boolean> {
  let known = hasFlock.get(session);
  if (!known) {
    known = session.run(["flock", "--version"]).then((r) => r.code === 0);
    hasFlock.set(session, known);
  }
  return known;
}

/** Whether a script names its interpreter on its first line (`#!/bin/bash`): then the file itself is run. */
export function hasShebang(script: string): boolean {
  return script.startsWith("#!");
}

/** How {@linkcode shellArgv} runs the copied script. */
export interface ShellArgvOptions {
  /** Under the guest-wide lock (the guest has util-linux flock). */
  flock: boolean;
  /** The script has a shebang: run the file (the kernel starts its interpreter); else `/bin/sh FILE`. */
  shebang: boolean;
}

/** The guest command running the copied script `file`. */
export function shellArgv(p: ShellProvisioner, file: string, options: ShellArgvOptions): string[] {
  return [
    ...(options.flock ? ["flock", PROVISION_LOCK] : []),
    ...(p.privileged ? ["sudo", "-n"] : []),
    "env",
    ...Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
    ...(options.shebang ? [file] : ["/bin/sh", file]),
    ...p.args,
  ];
}

export const shellProvisioner: ProvisionerType<ShellProvisioner> = {
  summary(p) {
    const what = p.path ?? (p.inline!.split("\n")[0].slice(0, 40) + (p.inline!.length > 40 ? "..." : ""));
    return `${p.privileged ? "privileged " : ""}shell: ${what}`;
  },

  // The script goes to a file of this run's own, and runs under a guest-wide lock: a run lv lost track of
  // (lv killed, the connection dropped) goes on in the guest, and a new run waits for it instead of running
  // beside it.
  async run(ctx, p, label) {
    const script = p.inline ?? await Deno.readTextFile(p.path!);
    const file = `/tmp/lv-provision-${crypto.randomUUID()}`;
    await ctx.session.putFile(file, script, { mode: 0o755 }).catch((e) => {
      throw new Error(`cannot copy ${label} to the guest: ${e.message}`);
    });
    const flock = await flockIn(ctx.session);
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    try {
      const argv = shellArgv(p, file, { flock, shebang: hasShebang(script) });
      return await ctx.session.run(argv, { onStdout: stream, onStderr: stream });
    } finally {
      await ctx.session.run(["rm", "-f", file]).catch(() => {});
    }
  },
};
