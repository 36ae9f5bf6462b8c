/** A long-running command (lv get -w, lv get events -w) whose stdout a test waits on, pattern by pattern. */

export interface Streaming {
  /** Everything printed so far. */
  readonly stdout: string;
  /** Waits (at most timeoutMs) until stdout matches; fails with what was printed. */
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits until it is gone. */
  stop(): Promise<void>;
}

/** Starts `argv` with `env` (stdout read as it comes, stderr kept for failures). */
export function streaming(
  argv: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Streaming {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const reading = Promise.all([
    (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
    })(),
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
    })(),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    get stdout() {
      return stdout;
    },
    async until(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (exited || Date.now() > deadline) {
          throw new Error(
            `${exited ? "exited" : `timed out after ${timeoutMs / 1000}s`} before printing ${pattern}\n` +
              `stdout:\n${stdout}\nstderr:\n${stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(): Promise<void> {
      if (!exited) child.kill("SIGTERM");
      await status;
      await reading;
    },
  };
}
