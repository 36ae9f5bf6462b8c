/**
 * A prototype of the change the benchmarks propose for src/libvirt/virsh.ts: one long-lived `virsh` process
 * per connection, fed commands on stdin, instead of a process per command. Not used by lv; bench/observe.ts
 * measures an observation pass with it against ProcessVirsh.
 *
 * Framing: after each command the session runs `echo MARK` and `echo --err MARK`, so the command's stdout and
 * stderr end at the mark (with stdin not a terminal, virsh echoes every command line after a "virsh # " prompt
 * on stdout: those are dropped). virsh's shell has no per-command exit status: a command failed when it wrote
 * "error:" on stderr. Text for stdin (define /dev/stdin) goes through a temporary file instead.
 */
import type { RunOptions, VirshResult, VirshRunner } from "../src/libvirt/virsh.ts";

function word(w: string): string {
  return /^[\w./:=@,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Collects a stream's text and hands out what came before a needle, consuming through it. */
class Splitter {
  #buffer = "";
  #waiters: { needle: string; resolve: (text: string) => void }[] = [];
  push(text: string): void {
    this.#buffer += text;
    while (this.#waiters.length > 0) {
      const { needle, resolve } = this.#waiters[0];
      const at = this.#buffer.indexOf(needle);
      if (at < 0) return;
      resolve(this.#buffer.slice(0, at));
      this.#buffer = this.#buffer.slice(at + needle.length);
      this.#waiters.shift();
    }
  }
  until(needle: string): Promise<string> {
    const p = new Promise<string>((resolve) => this.#waiters.push({ needle, resolve }));
    this.push("");
    return p;
  }
}

export class SessionVirsh implements VirshRunner {
  readonly uri: string;
  #calls = 0;
  #seq = 0;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #out = new Splitter();
  #err = new Splitter();
  #chain: Promise<unknown> = Promise.resolve();
  #tmp = Deno.makeTempDirSync({ prefix: "lv-virsh-session-" });

  constructor(uri: string) {
    this.uri = uri;
    this.#child = new Deno.Command("virsh", {
      args: ["-q", "-c", uri],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>, to: Splitter) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) to.push(dec.decode(chunk, { stream: true }));
    };
    pump(this.#child.stdout, this.#out);
    pump(this.#child.stderr, this.#err);
  }

  get calls(): number {
    return this.#calls;
  }

  run(args: string[], options: RunOptions = {}): Promise<VirshResult> {
    const next = this.#chain.then(() => this.#run(args, options));
    this.#chain = next.catch(() => {});
    return next;
  }

  async #run(args: string[], options: RunOptions): Promise<VirshResult> {
    this.#calls++;
    const mark = `lv-mark ${++this.#seq}`;
    let argv = args;
    let file: string | undefined;
    if (options.stdin !== undefined) {
      file = `${this.#tmp}/${this.#seq}`;
      Deno.writeTextFileSync(file, options.stdin);
      argv = args.map((a) => a === "/dev/stdin" ? file! : a);
    }
    const line = `${argv.map(word).join(" ")}\necho ${mark}\necho --err ${mark}\n`;
    // `echo lv-mark N` prints the mark with no newline, right after the echoed command line; `echo --err`
    // prints "error: lv-mark N" and a newline on stderr.
    const outP = this.#out.until(`\n${mark}`), errP = this.#err.until(`error: ${mark}\n`);
    await this.#writer.write(new TextEncoder().encode(line));
    const [rawOut, stderr] = await Promise.all([outP, errP]);
    // With stdin not a terminal, virsh still echoes each command after its prompt: drop those lines.
    const stdout = rawOut.replace(/virsh # [^\n]*(\n|$)/g, "");
    if (file) Deno.removeSync(file);
    return { code: /^error:/m.test(stderr) ? 1 : 0, stdout, stderr };
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
    Deno.removeSync(this.#tmp, { recursive: true });
  }
}
