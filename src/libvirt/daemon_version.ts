/**
 * `lv version`'s question to the local libvirt daemon, asked over its UNIX socket in libvirt's own RPC protocol
 * instead of a `virsh version` process (~25 ms: about Deno's whole start; bench item 8). Six calls: the
 * authentication list (none, or polkit: asked for), open, the driver's type, the hypervisor's and the
 * daemon's versions, close. Everything else lv asks libvirt goes through virsh.
 *
 * The wire format (libvirt's src/rpc/virnetprotocol.x and src/remote/remote_protocol.x): each message is a
 * big-endian length word counting the whole message, a header (program, version, procedure, type, serial,
 * status) and an XDR body; a reply with status ERROR carries libvirt's error instead.
 *
 * Only this machine's system daemon is asked (qemu:///system, qemu+unix:///system, no query). Anything else
 * (another URI, a missing socket, SASL, an error, not opened within 2 s) gives undefined: the caller asks virsh,
 * which says what is wrong in libvirt's words.
 */
import { isLocalSystemUri } from "./virsh.ts";

const PROGRAM = 0x20008086;
const PROTOCOL_VERSION = 1;
const CALL = 0;
const REPLY = 1;
const OK = 0;

/** remote_protocol.x's procedure numbers. */
export const PROC = {
  open: 1,
  close: 2,
  getType: 3,
  getVersion: 4,
  authList: 66,
  authPolkit: 70,
  getLibVersion: 157,
} as const;

const AUTH_NONE = 0;
const AUTH_POLKIT = 2;

/** The system daemon's sockets: the monolithic daemon's, else QEMU's modular daemon's. */
const SOCKETS = ["libvirt-sock", "virtqemud-sock"];

/** XDR: a body being written. */
export class XdrWriter {
  #bytes: number[] = [];

  u32(n: number): this {
    this.#bytes.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    return this;
  }

  string(s: string): this {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.#bytes.push(...b, ...new Array((4 - (b.length % 4)) % 4).fill(0));
    return this;
  }

  /** remote_string: a string that may be absent. */
  optionalString(s: string | undefined): this {
    return s === undefined ? this.u32(0) : this.u32(1).string(s);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }
}

/** XDR: a body being read; reading past its end throws. */
export class XdrReader {
  #view: DataView;
  #at = 0;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u32(): number {
    const n = this.#view.getUint32(this.#at);
    this.#at += 4;
    return n;
  }

  i32(): number {
    const n = this.#view.getInt32(this.#at);
    this.#at += 4;
    return n;
  }

  /** An XDR hyper (libvirt's version numbers fit a double). */
  u64(): number {
    return this.u32() * 2 ** 32 + this.u32();
  }

  string(): string {
    const length = this.u32();
    if (this.#at + length > this.bytes.length) throw new RangeError("string past the end of the message");
    const s = new TextDecoder().decode(this.bytes.subarray(this.#at, this.#at + length));
    this.#at += length + (4 - (length % 4)) % 4;
    return s;
  }

  optionalString(): string | undefined {
    return this.u32() === 0 ? undefined : this.string();
  }
}

/** A whole message: length word, header, body. */
export function encodeMessage(
  header: { proc: number; type: number; serial: number; status: number },
  body: Uint8Array,
): Uint8Array {
  const head = new XdrWriter().u32(0).u32(PROGRAM).u32(PROTOCOL_VERSION).u32(header.proc).u32(header.type)
    .u32(header.serial).u32(header.status).bytes;
  const message = new Uint8Array(head.length + body.length);
  message.set(head);
  message.set(body, head.length);
  new DataView(message.buffer).setUint32(0, message.length);
  return message;
}

/** A message's header and body (`bytes` without its length word). */
export function decodeMessage(bytes: Uint8Array): {
  prog: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
  body: XdrReader;
} {
  const r = new XdrReader(bytes);
  const [prog, _vers, proc, type, serial, status] = [r.u32(), r.u32(), r.i32(), r.i32(), r.u32(), r.i32()];
  return { prog, proc, type, serial, status, body: new XdrReader(bytes.subarray(24)) };
}

/** Reads whole messages from a connection. */
class MessageReader {
  #buffered = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #fill(n: number): Promise<void> {
    while (this.#buffered.length < n) {
      const chunk = new Uint8Array(65536);
      const got = await this.conn.read(chunk);
      if (got === null) throw new Error("the daemon closed the connection");
      const joined = new Uint8Array(this.#buffered.length + got);
      joined.set(this.#buffered);
      joined.set(chunk.subarray(0, got), this.#buffered.length);
      this.#buffered = joined;
    }
  }

  /** The next message without its length word. */
  async next(): Promise<Uint8Array> {
    await this.#fill(4);
    const length = new DataView(this.#buffered.buffer).getUint32(0);
    if (length < 28 || length > 4 * 1024 * 1024) throw new Error(`a message of ${length} bytes`);
    await this.#fill(length);
    const message = this.#buffered.slice(4, length);
    this.#buffered = this.#buffered.slice(length);
    return message;
  }
}

async function ask(conn: Deno.Conn, uri: string, opened: () => void): Promise<string> {
  const messages = new MessageReader(conn);
  let serial = 0;
  const call = async (proc: number, args: Uint8Array = new Uint8Array(0)): Promise<XdrReader> => {
    const sent = serial++;
    await conn.write(encodeMessage({ proc, type: CALL, serial: sent, status: OK }, args));
    const reply = decodeMessage(await messages.next());
    if (reply.prog !== PROGRAM || reply.type !== REPLY || reply.serial !== sent || reply.proc !== proc) {
      throw new Error(`an unexpected message (procedure ${reply.proc}, type ${reply.type})`);
    }
    if (reply.status !== OK) {
      const [_code, _domain, message] = [reply.body.i32(), reply.body.i32(), reply.body.optionalString()];
      throw new Error(message ?? "libvirt error");
    }
    return reply.body;
  };
  const list = await call(PROC.authList);
  const types = Array.from({ length: list.u32() }, () => list.i32());
  if (types.length > 0 && types[0] !== AUTH_NONE) {
    if (types[0] !== AUTH_POLKIT) throw new Error(`authentication type ${types[0]} is virsh's to do`);
    await call(PROC.authPolkit);
  }
  await call(PROC.open, new XdrWriter().optionalString(uri).u32(0).bytes);
  opened();
  const type = (await call(PROC.getType)).string();
  const hypervisor = (await call(PROC.getVersion)).u64();
  const daemon = (await call(PROC.getLibVersion)).u64();
  await call(PROC.close);
  return `Running hypervisor: ${type} ${versionText(hypervisor)}\nRunning against daemon: ${
    versionText(daemon)
  }`;
}

/** libvirt's version number (major * 1,000,000 + minor * 1,000 + micro) as text. */
export function versionText(n: number): string {
  return `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1000) % 1000}.${n % 1000}`;
}

/**
 * What `virsh version --daemon` says of the running hypervisor and daemon, asked over the daemon's socket;
 * undefined when this cannot ask (see the module's notes): then ask virsh.
 */
export async function daemonVersion(
  uri: string,
  options: { socketDir?: string; timeoutMs?: number } = {},
): Promise<string | undefined> {
  // This machine's system daemon over its default socket: a query (?socket=...) is virsh's to read.
  if (!isLocalSystemUri(uri) || uri.includes("?")) return undefined;
  const dir = options.socketDir ?? "/run/libvirt";
  const socket = SOCKETS.map((s) => `${dir}/${s}`).find((path) => {
    try {
      return Deno.statSync(path).isSocket;
    } catch {
      return false;
    }
  });
  if (!socket) return undefined;
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch {
    return undefined;
  }
  try {
    let opened = false;
    const answer = ask(conn, "qemu:///system", () => opened = true).catch(() => undefined);
    // Not within(): a process's first setTimeout loads Node's timers (~10 ms, as much as asking takes). The
    // abort signal's timer loads nothing; it keeps no process alive, the read it waits on does. The limit is
    // for opening: after that a slow answer is the daemon's own (one re-probing QEMU takes seconds), and virsh
    // would wait for the same daemon again.
    const expired = AbortSignal.timeout(options.timeoutMs ?? 2000);
    const late = new Promise<undefined>((resolve) =>
      expired.addEventListener("abort", () => opened || resolve(undefined))
    );
    return await Promise.race([answer, late]);
  } finally {
    conn.close();
  }
}
