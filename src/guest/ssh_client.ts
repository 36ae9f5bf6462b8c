/**
 * SSH to guests (npm:ssh2): host keys trusted on first use and pinned, commands streamed with exit codes,
 * files written over the same connection.
 */
import { Buffer } from "node:buffer";
import "./ssh2_globals.ts";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { JumpHost } from "../config/ssh_transport.ts";
import { privateKeysIn } from "./vagrant_insecure_key.ts";
import { HostKeyMismatchError } from "./host_key.ts";
import type { GuestTarget } from "./session.ts";
import { joinStreams } from "./join_streams.ts";
import type { SftpSession } from "./sftp_files.ts";

/**
 * Keepalive interval of a guest connection unless the caller asks for another: a guest silent for 3 of them
 * (90 s, longer than a TCG guest under load ever pauses) is taken as gone.
 */
export const GUEST_KEEPALIVE_MS = 30_000;

const CLOSED_BEFORE_LOGIN = "the connection closed before login";

/**
 * One private key, or each key of a file that holds several (Vagrant's insecure ones), as ssh -i tries them;
 * with agent forwarding, the agent's keys after. The key is offered at once: ssh2's default (and OpenSSH's)
 * first asks with "none" for the methods allowed, a round trip a booting TCG guest answers in ~0.1 s.
 */
function keyAuth(target: GuestTarget, agent: boolean): Partial<ConnectConfig> {
  const keys = privateKeysIn(target.privateKey);
  const then = agent ? ["agent" as const] : [];
  if (keys.length === 1) return { privateKey: target.privateKey, authHandler: ["publickey", ...then] };
  return {
    authHandler: [
      ...keys.map((key) => ({ type: "publickey" as const, username: target.user, key })),
      ...then,
    ],
  };
}

function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString();
}

export interface ExecOptions {
  /** Streamed output; default collected only. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  stdin?: string | Uint8Array;
  /** Allocate a pseudo-terminal. */
  pty?: boolean;
}

/** X11 forwarding of an interactive session: the display's screen and cookie, and how to reach it. */
export interface X11Forward {
  screen: number;
  protocol?: string;
  cookie?: string;
  connect: () => Promise<Deno.Conn>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One SSH connection to a guest. */
export class GuestConnection {
  readonly hostKey: string;
  #client: Client;
  #jump?: Client;
  constructor(client: Client, hostKey: string, jump?: Client) {
    this.#client = client;
    this.hostKey = hostKey;
    this.#jump = jump;
  }

  static async connect(target: GuestTarget): Promise<GuestConnection> {
    if (!target.via) return await GuestConnection.#open(target, {});
    const jump = await connectJump(target.via, target.timeoutMs ?? 10_000);
    try {
      const sock = await new Promise<ClientChannel>((resolve, reject) =>
        jump.forwardOut(
          "127.0.0.1",
          0,
          target.host,
          target.port,
          (err: Error | undefined, stream: ClientChannel) => err ? reject(err) : resolve(stream),
        )
      );
      return await GuestConnection.#open(target, { sock }, jump);
    } catch (e) {
      jump.end();
      throw new Error(
        `through ${target.via.user}@${target.via.host}:${target.via.port}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  static #open(target: GuestTarget, extra: Partial<ConnectConfig>, jump?: Client): Promise<GuestConnection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let presented = "";
      let mismatch: HostKeyMismatchError | undefined;
      const agentForward = !!target.forwardAgent && !!Deno.env.get("SSH_AUTH_SOCK");
      const config: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.user,
        ...keyAuth(target, agentForward),
        readyTimeout: target.timeoutMs ?? 10_000,
        // A dropped connection (a guest reset, a cut network) is noticed after 3 unanswered keepalives: a
        // command running over it then fails instead of waiting forever.
        keepaliveInterval: target.keepaliveMs ?? GUEST_KEEPALIVE_MS,
        keepaliveCountMax: 3,
        agent: agentForward ? Deno.env.get("SSH_AUTH_SOCK") : undefined,
        agentForward,
        hostVerifier: (key: Buffer) => {
          presented = `${keyType(key)} ${key.toString("base64")}`;
          if (target.pinnedHostKey && target.pinnedHostKey.trim() !== presented) {
            mismatch = new HostKeyMismatchError(target.host, target.pinnedHostKey, presented);
            return false;
          }
          return true;
        },
        ...extra,
      };
      client.once("ready", () => resolve(new GuestConnection(client, presented, jump)));
      // "on": a connection a port forward accepted before the guest's sshd listens errors more than once.
      client.on("error", (e: Error) => {
        client.end();
        reject(mismatch ?? e);
      });
      // An sshd that closes after its version line (restarting at first boot, MaxStartups) gives no error
      // and stops the ready timer: without this the login would wait forever. After "ready" it does nothing.
      client.once("close", () => reject(mismatch ?? new Error(CLOSED_BEFORE_LOGIN)));
      if (jump) client.once("close", () => jump.end());
      client.connect(config);
    });
  }

  /** Runs a command; resolves with its exit code (a signal counts as 128+n... reported as 255). */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.#client.exec(
        command,
        { pty: options.pty ?? false },
        (err: Error | undefined, channel: ClientChannel) => {
          if (err) return reject(err);
          let stdout = "", stderr = "";
          let code = 255;
          channel.on("data", (d: Buffer) => {
            const s = d.toString();
            stdout += s;
            options.onStdout?.(s);
          });
          channel.stderr.on("data", (d: Buffer) => {
            const s = d.toString();
            stderr += s;
            options.onStderr?.(s);
          });
          channel.on("exit", (c: number | null) => {
            if (typeof c === "number") code = c;
          });
          // A connection that drops (keepalives unanswered, the guest reset) ends the command with an error.
          const lost = () => reject(new Error("the SSH connection closed while a command ran"));
          this.#client.once("close", lost);
          channel.on("close", () => {
            this.#client.off("close", lost);
            resolve({ code, stdout, stderr });
          });
          if (options.stdin !== undefined) channel.end(options.stdin);
          else channel.end();
        },
      );
    });
  }

  /**
   * A shell or command wired to this process's input and output, bytes as they are, input streamed to its
   * end; with `pty`, on a pseudo-terminal of that size (an interactive session). Resolves with the exit code.
   */
  interactive(command: string | undefined, io: {
    stdin: ReadableStream<Uint8Array>;
    write: (chunk: Uint8Array, stream: "out" | "err") => void;
    pty?: { rows: number; cols: number; term: string };
    /** Subscribes to terminal size changes (rows, cols); returns the unsubscribe. */
    onResize?: (listener: (rows: number, cols: number) => void) => () => void;
    /** Forward X11: the guest's X connections go to `connect()` (this machine's X server). */
    x11?: X11Forward;
  }): Promise<number> {
    if (io.x11) this.#acceptX11(io.x11.connect);
    return new Promise((resolve, reject) => {
      const onChannel = (err: Error | undefined, channel: ClientChannel) => {
        if (err) return reject(err);
        let code = 255;
        channel.on("data", (d: Buffer) => io.write(new Uint8Array(d), "out"));
        channel.stderr.on("data", (d: Buffer) => io.write(new Uint8Array(d), "err"));
        channel.on("exit", (c: number | null) => {
          if (typeof c === "number") code = c;
        });
        const unsubscribe = io.onResize?.((rows, cols) => channel.setWindow(rows, cols, 0, 0));
        channel.on("close", () => {
          unsubscribe?.();
          resolve(code);
        });
        (async () => {
          for await (const chunk of io.stdin) channel.write(Buffer.from(chunk));
          channel.end();
        })().catch(() => channel.end());
      };
      const pty = io.pty ?? false;
      const x11 = io.x11 &&
        { single: false, screen: io.x11.screen, protocol: io.x11.protocol, cookie: io.x11.cookie };
      if (command === undefined) this.#client.shell(pty, x11 ? { x11 } : {}, onChannel);
      else this.#client.exec(command, { pty, ...(x11 ? { x11 } : {}) }, onChannel);
    });
  }

  /** Each X11 channel the guest opens is joined to a new connection to the local X server. */
  #acceptX11(connect: () => Promise<Deno.Conn>): void {
    this.#client.on("x11", (_info: unknown, accept: () => ClientChannel, reject: () => void) => {
      connect().then((conn) => joinStreams(conn, accept()), () => reject());
    });
  }

  /**
   * A channel to `host:port` as the guest sees it (ssh -L): `127.0.0.1` is the guest's loopback. Rejects when
   * the guest refuses (nothing listens there, or sshd forbids forwarding).
   */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      this.#client.forwardOut(
        "127.0.0.1",
        0,
        host,
        port,
        (err: Error | undefined, stream: ClientChannel) => err ? reject(err) : resolve(stream),
      )
    );
  }

  /** An SFTP session on this connection (lv cp). */
  sftp(): Promise<SftpSession> {
    return new Promise((resolve, reject) =>
      this.#client.sftp((err: Error | undefined, sftp: SftpSession) => err ? reject(err) : resolve(sftp))
    );
  }

  /** Calls `listener` once when the connection is gone (closed, dropped, or timed out by keepalive). */
  onClose(listener: () => void): void {
    this.#client.once("close", listener);
  }

  close(): void {
    this.#client.end();
    this.#jump?.end();
  }
}

/** The known_hosts name OpenSSH gives host:port. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Checks a host key against an OpenSSH known_hosts file (plain names, as lv's wrapper writes them): a known
 * host must present the same key; an unknown one is trusted and recorded (first use).
 */
export function checkKnownHost(file: string, host: string, port: number, key: string): "known" | "added" {
  const name = knownHostsName(host, port);
  let text = "";
  try {
    text = Deno.readTextFileSync(file);
  } catch { /* none yet */ }
  const [type, blob] = key.split(" ");
  const entries = text.split("\n").map((l) => l.trim().split(/\s+/)).filter((f) =>
    f.length >= 3 && f[0].split(",").includes(name)
  );
  if (entries.some((f) => f[1] === type && f[2] === blob)) return "known";
  if (entries.length > 0) {
    throw new HostKeyMismatchError(name, `${entries[0][1]} ${entries[0][2]}`, key);
  }
  Deno.writeTextFileSync(file, `${name} ${key}\n`, { append: true, mode: 0o600 });
  return "added";
}

function connectJump(via: JumpHost, timeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let mismatch: Error | undefined;
    const failed = (message: string) =>
      reject(mismatch ?? new Error(`jump host ${via.user}@${via.host}:${via.port}: ${message}`));
    client.once("ready", () => resolve(client));
    client.once("error", (e: Error) => {
      client.end();
      failed(e.message);
    });
    client.once("close", () => failed(CLOSED_BEFORE_LOGIN));
    client.connect({
      host: via.host,
      port: via.port,
      username: via.user,
      privateKey: via.privateKeyFile ? Deno.readTextFileSync(via.privateKeyFile) : undefined,
      password: via.password,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        try {
          checkKnownHost(via.knownHostsFile, via.host, via.port, `${keyType(key)} ${key.toString("base64")}`);
          return true;
        } catch (e) {
          mismatch = e as Error;
          return false;
        }
      },
    });
  });
}

export { shellQuote } from "./shell.ts";
