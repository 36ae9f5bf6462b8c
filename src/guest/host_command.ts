/** Commands lv runs on this host for a guest (rsync, exportfs): argv in, exit code and output out. */

export interface HostCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv on this host; rejects only when the program cannot be started (not found). */
export type HostCommand = (argv: string[]) => Promise<HostCommandResult>;

/** The real one: a subprocess, output collected. */
export const runHostCommand: HostCommand = async (argv) => {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
};
