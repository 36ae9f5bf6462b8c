/** Waiting on a promise at most so long. */

/**
 * `p`'s value when it settles within `ms` (its rejection too), else `late`; the timer is cleared either way, so
 * nothing keeps the process alive afterwards. `p` itself goes on; a rejection after the deadline is ignored.
 */
export async function within<T, L>(p: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<L>((resolve) => timer = setTimeout(() => resolve(late), ms));
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}
