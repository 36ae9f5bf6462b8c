/**
 * The provisioner types by `type`, and spec.provision run in order. A new type is a file beside shell.ts
 * implementing ProvisionerType, its spec type added to AnyProvisioner, and one entry here.
 */
import { tail } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { AnyProvisioner, ProvisionerType } from "./provisioner.ts";
import { shellProvisioner } from "./shell.ts";

export const PROVISIONERS: {
  [T in AnyProvisioner["type"]]: ProvisionerType<Extract<AnyProvisioner, { type: T }>>;
} = {
  shell: shellProvisioner,
};

/**
 * Runs the Domain's provisioners in spec order: all of them, or (`all` false) only the `run: always` ones.
 * Stops at the first that exits non-zero and returns the failure (reason ProvisionFailed, the exit code
 * and the output's last lines); rejects when one cannot be started.
 */
export async function runProvisioners(
  ctx: GuestStepContext,
  all: boolean,
): Promise<{ reason: string; message: string } | undefined> {
  const { dom } = ctx;
  for (const [i, p] of dom.spec.provision.entries()) {
    if (!all && p.run !== "always") continue;
    const label = p.name ?? `provision[${i}]`;
    const type = PROVISIONERS[p.type];
    await ctx.event("Provisioning", `running ${label} (${type.summary(p)})`);
    const r = await type.run(ctx, p, label);
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
