/**
 * The provisioner types by `type`, and spec.provision run in order. A new type is a file beside shell.ts
 * implementing ProvisionerType, its spec type added to AnyProvisioner, and one entry here.
 */
import { tail } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";
import {
  type AnyProvisioner,
  type ProvisionerType,
  ProvisionWaitingError,
  ToolMissingError,
} from "./provisioner.ts";
import { ansibleProvisioner } from "./ansible.ts";
import { ansibleLocalProvisioner } from "./ansible_local.ts";
import { dockerProvisioner, podmanProvisioner } from "./containers.ts";
import { fileProvisioner } from "./file.ts";
import { puppetProvisioner } from "./puppet.ts";
import { saltProvisioner } from "./salt.ts";
import { shellProvisioner } from "./shell.ts";

export const PROVISIONERS: {
  [T in AnyProvisioner["type"]]: ProvisionerType<Extract<AnyProvisioner, { type: T }>>;
} = {
  shell: shellProvisioner,
  file: fileProvisioner,
  ansible: ansibleProvisioner,
  ansible_local: ansibleLocalProvisioner,
  puppet: puppetProvisioner,
  salt: saltProvisioner,
  docker: dockerProvisioner,
  podman: podmanProvisioner,
};

/** The type of `p`, typed for `p` (TypeScript cannot correlate the table's entry with the union by itself). */
function typeOf<P extends AnyProvisioner>(p: P): ProvisionerType<P> {
  return PROVISIONERS[p.type] as unknown as ProvisionerType<P>;
}

/**
 * Runs the Domain's provisioners in spec order: all of them, or (`all` false) only the `run: always` ones.
 * Stops at the first that exits non-zero and returns the failure (reason ProvisionFailed, the exit code
 * and the output's last lines; ProvisionerToolMissing when the guest lacks its program); rejects when one
 * cannot be started, or (a ProvisionWaitingError) must wait for another Domain's guest.
 */
export async function runProvisioners(
  ctx: GuestStepContext,
  all: boolean,
): Promise<{ reason: string; message: string } | undefined> {
  const { dom } = ctx;
  for (const [i, p] of dom.spec.provision.entries()) {
    if (!all && p.run !== "always") continue;
    const label = p.name ?? `provision[${i}]`;
    const type = typeOf(p);
    const waiting = await type.waitingFor?.(ctx, p);
    if (waiting) throw new ProvisionWaitingError(`${label}: ${waiting}`);
    await ctx.event("Provisioning", `running ${label} (${type.summary(p)})`);
    let r;
    try {
      r = await type.run(ctx, p, label);
    } catch (e) {
      if (e instanceof ToolMissingError) return { reason: "ProvisionerToolMissing", message: e.message };
      throw e;
    }
    if (r.code !== 0) {
      return {
        reason: "ProvisionFailed",
        message: `${label} exited with code ${r.code}; last output:\n${tail(r.stdout + r.stderr)}`,
      };
    }
    await ctx.event("Provisioned", `${label} finished`);
  }
  return undefined;
}
