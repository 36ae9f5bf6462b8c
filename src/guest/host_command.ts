/** Commands lv runs on this host for a guest (rsync, exportfs, ansible-playbook): argv in, exit code and output out. */

export interface HostCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostCommandOptions {
  /** Output as it comes (ansible-playbook); it is collected into the result either way. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

/** Runs argv on this host; rejects only when the program cannot be started (not found). */
export type HostCommand = (argv: string[], options?: HostCommandOptions) => Promise<HostCommandResult>;

/** Reads a stream to its end, passing each decoded chunk to `on`; resolves with the whole text. */
async function collect(stream: ReadableStream<Uint8Array>, on?: (chunk: string) => void): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    on?.(chunk);
  }
  return text;
}

/** The real one: a subprocess, output collected (and streamed to the callbacks as it comes). */
export const runHostCommand: HostCommand = async (argv, options = {}) => {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [stdout, stderr, status] = await Promise.all([
    collect(child.stdout, options.onStdout),
    collect(child.stderr, options.onStderr),
    child.status,
  ]);
  return { code: status.code, stdout, stderr };
};
