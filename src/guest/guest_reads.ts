/**
 * What batches of reads gave, looked up by the operation that read it: the input of a step's plan (the
 * network families read in one batch, then plan their writes from what came back, without a round trip of
 * their own).
 */
import type { GuestOp, GuestOpResult, RunResult } from "./session.ts";

function keyOf(op: GuestOp): string {
  if ("run" in op) return `run\0${op.run.join("\0")}`;
  if ("read" in op) return `read\0${op.read}`;
  if ("list" in op) return `list\0${op.list}`;
  return `put\0${op.put}`;
}

/** Results of read operations (read, list, a run that changes nothing), by operation. */
export class GuestReads {
  #results = new Map<string, GuestOpResult>();

  /** Records a batch's results (in the order of `ops`); an operation that did not run is not recorded. */
  add(ops: GuestOp[], results: GuestOpResult[]): this {
    ops.forEach((op, i) => {
      if (results[i]?.ran) this.#results.set(keyOf(op), results[i]);
    });
    return this;
  }

  /** Whether `op` was read already. */
  has(op: GuestOp): boolean {
    return this.#results.has(keyOf(op));
  }

  /** Of `ops`, those not read yet, each once. */
  missing(ops: GuestOp[]): GuestOp[] {
    const seen = new Set<string>();
    return ops.filter((op) => {
      const key = keyOf(op);
      if (this.#results.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  #get(op: GuestOp): GuestOpResult {
    const r = this.#results.get(keyOf(op));
    if (!r) throw new Error(`internal: ${JSON.stringify(op)} was not read before planning`);
    if (r.error) throw new Error(r.error);
    return r;
  }

  /** A read file's text, undefined when there is no such file; rejects with the read's failure. */
  text(path: string): string | undefined {
    return this.#get({ read: path }).text;
  }

  /** A listed directory's names, undefined when there is no such directory; rejects with the list's failure. */
  names(dir: string): string[] | undefined {
    return this.#get({ list: dir }).names;
  }

  /** What a command run gave. */
  run(argv: string[]): RunResult {
    return this.#get({ run: argv }).run!;
  }
}
