/** Running virsh: argv arrays only, never a shell string. */

export interface VirshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one virsh command. Implementations: a subprocess per call, or a fake for unit tests. */
export interface VirshRunner {
  /** The connection URI every command runs against. */
  readonly uri: string;
  run(args: string[], options?: RunOptions): Promise<VirshResult>;
  /** How many virsh commands ran so far (benchmarks report it). */
  readonly calls: number;
}

export interface RunOptions {
  /** Text written to the command's stdin. */
  stdin?: string;
}

/** A virsh command failed. Carries what ran and what libvirt said. */
export class VirshError extends Error {
  readonly args: string[];
  readonly exitCode: number;
  readonly stderr: string;
  constructor(args: string[], result: VirshResult, options?: { what?: string }) {
    const said = result.stderr.trim().replace(/^error: /gm, "").split("\n").filter((l) => l.trim()).join(
      "; ",
    );
    super(`${options?.what ?? `virsh ${args[0]}`}: ${said || `exit code ${result.code}`}`);
    this.name = "VirshError";
    this.args = args;
    this.exitCode = result.code;
    this.stderr = result.stderr;
  }

  /** libvirt reported that the object does not exist (and not that the connection broke on the way). */
  get notFound(): boolean {
    return !this.unreachable &&
      /not found|no (storage )?(pool|vol|volume|network|domain)[^\n]*with matching|Storage volume not found|failed to get (domain|network|pool|vol)/i
        .test(this.stderr);
  }

  /** libvirt could not be reached (daemon down, socket missing, ssh failure). */
  get unreachable(): boolean {
    return /failed to connect to the hypervisor|Cannot recv data|End of file while reading data|Connection reset|Broken pipe|unable to connect to server|no valid connection|internal error: client socket is closed|keepalive timeout/i
      .test(this.stderr);
  }
}

/** Default URI when neither --connect nor LV_CONNECT says otherwise. */
export const DEFAULT_URI = "qemu:///system";

/** Whether `uri` is this machine's system libvirt (qemu:///system, qemu+unix:///system, any query). */
export function isLocalSystemUri(uri: string): boolean {
  return /^qemu(\+unix)?:\/\/\/system(\?.*)?$/.test(uri);
}

/**
 * One `virsh` process per command. With LV_VIRSH_LOG=FILE set, each command's argv is appended to FILE as a
 * JSON line (tests assert which commands ran; benchmarks count them).
 */
export class ProcessVirsh implements VirshRunner {
  readonly uri: string;
  #connectUri: string;
  #calls = 0;
  #log: string | undefined;
  #explain?: (stderr: string) => string | undefined;
  /**
   * `uri` is shown to users; `connectUri` (default the same) is what virsh gets (lv's ssh wrapper added).
   * `explain` turns a failure to connect into lv's words, added to the command's error.
   */
  constructor(
    uri: string = DEFAULT_URI,
    connectUri: string = uri,
    explain?: (stderr: string) => string | undefined,
  ) {
    this.uri = uri;
    this.#connectUri = connectUri;
    this.#explain = explain;
    this.#log = Deno.env.get("LV_VIRSH_LOG") || undefined;
  }

  get calls(): number {
    return this.#calls;
  }

  async run(args: string[], options: RunOptions = {}): Promise<VirshResult> {
    this.#calls++;
    if (this.#log) Deno.writeTextFileSync(this.#log, JSON.stringify(args) + "\n", { append: true });
    const command = new Deno.Command("virsh", {
      args: ["-q", "-c", this.#connectUri, ...args],
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    });
    const child = command.spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    let stderr = dec.decode(out.stderr);
    const why = out.code !== 0 && /failed to connect to the hypervisor/i.test(stderr)
      ? this.#explain?.(stderr)
      : undefined;
    if (why) stderr += `error: ${why}\n`;
    return { code: out.code, stdout: dec.decode(out.stdout), stderr };
  }
}
