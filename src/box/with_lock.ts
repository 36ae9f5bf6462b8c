/** One holder of a lock file at a time, across processes and within this one. */

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding an exclusive lock on `path`: an flock (released by the kernel if the process dies), and
 * a queue in this process (two reconcilers of one process wait for each other, not on the flock).
 */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const before = inProcess.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => release = r);
  const chained = before.then(() => mine);
  inProcess.set(path, chained);
  await before.catch(() => {});
  try {
    const file = await Deno.open(path, { write: true, create: true, mode: 0o600 });
    try {
      await file.lock(true);
      return await fn();
    } finally {
      file.close(); // closing drops the flock
    }
  } finally {
    release();
    if (inProcess.get(path) === chained) inProcess.delete(path);
  }
}
