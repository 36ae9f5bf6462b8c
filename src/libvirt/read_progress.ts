/**
 * How far a child process has read a file, seen from outside: the file offset in `/proc/<pid>/fdinfo/<fd>`
 * (`pos:`) of the descriptor that points at it. This is how lv shows the progress of `virsh vol-upload`
 * without changing how virsh runs: virsh reads the image sequentially from one descriptor.
 *
 * Linux only; where /proc cannot tell (another OS, a process that is not our child), nothing is reported.
 */

export interface WatchReadOptions {
  /** The process whose children are searched. Default this process. */
  parentPid?: number;
  /** Poll interval. Default 500 ms. */
  pollMs?: number;
}

export interface ReadWatch {
  /** Stops polling; resolves once the last poll has finished (no report follows). */
  stop(): Promise<void>;
  /** The child found, once found. */
  readonly pid: number | undefined;
}

/**
 * Polls until stopped: finds a child of `parentPid` whose argv satisfies `match` and which has `file`
 * open, and reports its read offset in that file whenever it changes. `file` may be a symlink.
 */
export function watchChildRead(
  match: (argv: string[]) => boolean,
  file: string,
  onOffset: (bytes: number) => void,
  options: WatchReadOptions = {},
): ReadWatch {
  const parent = options.parentPid ?? Deno.pid;
  const pollMs = options.pollMs ?? 500;
  let stopped = false;
  let pid: number | undefined;
  let fd: string | undefined;
  let last = -1;
  let target: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;

  const poll = async () => {
    target ??= await Deno.realPath(file).catch(() => file);
    if (pid === undefined) pid = await findChild(parent, match);
    if (pid === undefined) return;
    // A descriptor can be pointed elsewhere (a shell's redirections come and go): check it every time.
    if (fd !== undefined && await Deno.readLink(`/proc/${pid}/fd/${fd}`).catch(() => "") !== target) {
      fd = undefined;
    }
    if (fd === undefined) fd = await findFd(pid, target);
    if (fd === undefined) return;
    const pos = await readPos(pid, fd);
    if (pos === undefined) {
      [pid, fd] = [undefined, undefined]; // that process ended; a retry may start another
      return;
    }
    if (pos !== last && !stopped) {
      last = pos;
      onOffset(pos);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await poll();
      } catch { /* /proc entries vanish as processes end: try again next time */ }
      if (stopped) break;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, pollMs);
      });
    }
  })();
  return {
    get pid() {
      return pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

/**
 * Runs `work`, which starts the child, while reporting through `onOffset` (when given) how far the child whose
 * argv satisfies `match` has read `file`; the watch ends with `work`.
 */
export async function whileChildReads<T>(
  watch: {
    match: (argv: string[]) => boolean;
    file: string;
    onOffset?: (bytes: number) => void;
    pollMs?: number;
  },
  work: () => Promise<T>,
): Promise<T> {
  const w = watch.onOffset &&
    watchChildRead(watch.match, watch.file, watch.onOffset, { pollMs: watch.pollMs });
  try {
    return await work();
  } finally {
    await w?.stop();
  }
}

/** A child of `parent` (by PPid) whose argv matches. */
async function findChild(parent: number, match: (argv: string[]) => boolean): Promise<number | undefined> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      const argv = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0");
      if (argv.at(-1) === "") argv.pop();
      if (match(argv)) return Number(entry.name);
    } catch { /* ended meanwhile */ }
  }
  return undefined;
}

/** The descriptor of `pid` that points at `path`. */
async function findFd(pid: number, path: string): Promise<string | undefined> {
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    try {
      if (await Deno.readLink(`/proc/${pid}/fd/${entry.name}`) === path) return entry.name;
    } catch { /* closed meanwhile */ }
  }
  return undefined;
}

/** The `pos:` of a descriptor; undefined when the process or descriptor is gone. */
async function readPos(pid: number, fd: string): Promise<number | undefined> {
  try {
    const m = (await Deno.readTextFile(`/proc/${pid}/fdinfo/${fd}`)).match(/^pos:\s+(\d+)/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
