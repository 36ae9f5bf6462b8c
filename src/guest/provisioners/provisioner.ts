/** A provisioner type (shell, file, ansible, ...): one file a type, listed in provisioners.ts. */
import type { Provisioner } from "../../api/types.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { RunResult } from "../session.ts";

/** Every provisioner of a Domain's spec.provision. */
export type AnyProvisioner = Provisioner;

export interface ProvisionerType<P extends AnyProvisioner> {
  /** What the Provisioning event says it runs: "privileged shell: echo hi". */
  summary(p: P): string;
  /**
   * What the provisioner waits for before it can run (other Domains' guests), or undefined when it can run
   * now. Asked before each run; waiting is not a failure: the guest step is tried again later.
   */
  waitingFor?(ctx: GuestStepContext, p: P): Promise<string | undefined>;
  /**
   * Runs the provisioner once in the guest, `label` (its name, or provision[N]) in messages, its output streamed to
   * ctx.progress. Resolves with
   * its exit code and output (non-zero: it failed, and provisioning stops there); rejects when it could not
   * be started at all (a {@linkcode ToolMissingError} when the guest lacks its program). Whether running it
   * twice is harmless is up to the provisioner's author.
   */
  run(ctx: GuestStepContext, p: P, label: string): Promise<RunResult>;
}

/** The guest has no program the provisioner runs (ansible-playbook, puppet, ...): Ready=False ProvisionerToolMissing. */
export class ToolMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolMissingError";
  }
}

/**
 * A provisioner must wait for other Domains' guests (ansible with `limit` naming them): Ready=False
 * ProvisionWaiting, the message naming them, and tried again; not a failure.
 */
export class ProvisionWaitingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProvisionWaitingError";
  }
}
