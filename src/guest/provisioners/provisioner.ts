/** A provisioner type (shell today; file, ansible... later): one file a type, listed in provisioners.ts. */
import type { ShellProvisioner } from "../../api/types.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { RunResult } from "../session.ts";

/** Every provisioner of a Domain's spec.provision. */
export type AnyProvisioner = ShellProvisioner;

export interface ProvisionerType<P extends AnyProvisioner> {
  /** What the Provisioning event says it runs: "privileged shell: echo hi". */
  summary(p: P): string;
  /**
   * Runs the provisioner once in the guest, `label` (its name, or provision[N]) in messages, its output streamed to
   * ctx.progress. Resolves with
   * its exit code and output (non-zero: it failed, and provisioning stops there); rejects when it could not
   * be started at all. Whether running it twice is harmless is up to the provisioner's author.
   */
  run(ctx: GuestStepContext, p: P, label: string): Promise<RunResult>;
}
