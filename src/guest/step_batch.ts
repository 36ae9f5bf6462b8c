/**
 * Several guest steps' operations in ONE batch (one round trip, one sudo): the first-boot steps (hostname,
 * the network family's reads, then its writes) share batches instead of a round trip each. The batch stops
 * at the first failure; the failure names the step whose operation failed, and what ran before it stays
 * done (each step's operations are idempotent: the next reconcile plans again from what the guest has).
 */
import {
  type BatchOptions,
  checkBatch,
  type GuestOp,
  type GuestOpResult,
  type GuestSession,
  opFailed,
  opName,
  runStepBatch,
} from "./session.ts";

/** One step's part of a batch. */
export interface StepOps {
  /** Named in a failure: "hostname", "netplan". */
  step: string;
  ops: GuestOp[];
  /**
   * When the step's operation `failed` (its index in `ops`) failed: operations putting the guest back (run
   * in a batch of their own) and the message to fail with instead of the usual one; undefined: the usual.
   */
  recover?(failed: number, result: GuestOpResult): { undo: GuestOp[]; message: string } | undefined;
}

export interface StepsOutcome {
  /** Each step's results, in the order of the steps (those after a failure did not run: `ran` false). */
  results: GuestOpResult[][];
  /** The steps whose every operation ran and succeeded (a step without operations included). */
  done: Set<string>;
  /** The first failure, its message starting with the step's name. */
  error?: Error;
}

/** Runs the steps' operations in one batch (none: no round trip), stopping at the first failure. */
export async function runStepsBatch(
  session: GuestSession,
  steps: StepOps[],
  options: Omit<BatchOptions, "stopOnFailure"> = {},
): Promise<StepsOutcome> {
  const all = steps.flatMap((s) => s.ops);
  let flat: GuestOpResult[];
  try {
    flat = all.length === 0 ? [] : await session.batch(all, { ...options, stopOnFailure: true });
  } catch (e) {
    const first = steps.find((s) => s.ops.length > 0)!;
    const error = new Error(`${first.step}: ${(e as Error).message}`, { cause: e });
    return { results: steps.map((s) => s.ops.map(() => ({ ran: false }))), done: new Set(), error };
  }
  const outcome: StepsOutcome = { results: [], done: new Set() };
  let at = 0;
  for (const s of steps) {
    const mine = flat.slice(at, at += s.ops.length);
    outcome.results.push(mine);
    if (outcome.error) continue;
    const failed = mine.findIndex((r, i) => opFailed(r, s.ops[i]));
    const unran = mine.findIndex((r) => !r.ran);
    if (failed >= 0) outcome.error = await failure(session, s, mine, failed, options);
    else if (unran >= 0) {
      outcome.error = new Error(`${s.step}: ${opName(s.ops[unran])}: not run (the batch ended before it)`);
    } else outcome.done.add(s.step);
  }
  return outcome;
}

/** The step's failure: its recovery run first when it has one. */
async function failure(
  session: GuestSession,
  s: StepOps,
  results: GuestOpResult[],
  failed: number,
  options: BatchOptions,
): Promise<Error> {
  const recovery = s.recover?.(failed, results[failed]);
  if (recovery) {
    try {
      await runStepBatch(session, s.step, recovery.undo, options);
    } catch (e) {
      return e as Error;
    }
    return new Error(`${s.step}: ${recovery.message}`);
  }
  try {
    checkBatch(s.step, s.ops, results);
  } catch (e) {
    return e as Error;
  }
  return new Error(`${s.step}: failed`);
}
