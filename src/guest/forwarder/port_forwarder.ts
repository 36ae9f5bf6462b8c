/**
 * The forwarder's core: listens on each forwarded host port and carries every connection through one SSH
 * tunnel to the guest. The tunnel is opened on the first connection and opened again after it drops (the
 * guest rebooted, the network or the libvirt host went away), so the listeners outlive any one tunnel.
 */
import { within } from "../../api/within.ts";
import type { Duplex } from "node:stream";
import { forwardedPortText } from "../../api/forwarded_port.ts";
import type { ForwardedPort } from "../../api/types.ts";
import { joinStreams } from "../join_streams.ts";

/** One SSH connection to the guest able to open channels to its ports. */
export interface Tunnel {
  /** A channel to the guest's `port` on its loopback. */
  forward(port: number): Promise<Duplex>;
  /** Calls `listener` once when the tunnel is gone. */
  onClose(listener: () => void): void;
  close(): void;
}

/** Opens a tunnel (connects to the guest); rejects when the guest cannot be reached. */
export type TunnelOpener = () => Promise<Tunnel>;

/** A host port cannot be listened on: another process has it, or the address is not this host's. */
export class PortInUseError extends Error {
  constructor(readonly port: ForwardedPort, cause: Error) {
    super(
      cause instanceof Deno.errors.AddrInUse
        ? `host port ${port.hostIp}:${port.host} is in use (forwarded to guest port ${port.guest})`
        : `cannot listen on host port ${port.hostIp}:${port.host}: ${cause.message}`,
      { cause },
    );
    this.name = "PortInUseError";
  }
}

export interface PortForwarderOptions {
  /** How the forwarder reports what it does (a log line). Default: nothing. */
  log?: (line: string) => void;
  /** How long opening a channel may take before the tunnel is taken as dead and opened again. Default 15 s. */
  channelTimeoutMs?: number;
}

/** Listeners on the host ports and the tunnel under them. */
export class PortForwarder {
  readonly #ports: readonly ForwardedPort[];
  readonly #open: TunnelOpener;
  readonly #log: (line: string) => void;
  readonly #channelTimeoutMs: number;
  #listeners: Deno.Listener[] = [];
  #tunnel?: Promise<Tunnel>;
  #conns = new Set<Deno.Conn>();
  #closed = false;
  /** How many tunnels were opened (the first, then one after each drop). */
  tunnelsOpened = 0;

  constructor(ports: readonly ForwardedPort[], open: TunnelOpener, options: PortForwarderOptions = {}) {
    this.#ports = ports;
    this.#open = open;
    this.#log = options.log ?? (() => {});
    this.#channelTimeoutMs = options.channelTimeoutMs ?? 15_000;
  }

  /** Listens on every port, or on none: throws {@linkcode PortInUseError} naming the first that failed. */
  listen(): void {
    for (const port of this.#ports) {
      try {
        this.#listeners.push(Deno.listen({ hostname: port.hostIp, port: port.host }));
      } catch (e) {
        this.close();
        throw new PortInUseError(port, e as Error);
      }
    }
  }

  /** Accepts connections on every listener until {@linkcode close}. */
  async serve(): Promise<void> {
    await Promise.all(this.#listeners.map((l, i) => this.#accept(l, this.#ports[i])));
  }

  async #accept(listener: Deno.Listener, port: ForwardedPort): Promise<void> {
    try {
      for await (const conn of listener) this.#carry(conn, port);
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  #carry(conn: Deno.Conn, port: ForwardedPort): void {
    this.#conns.add(conn);
    this.#channel(port.guest).then(
      (channel) => joinStreams(conn, channel),
      (e) => {
        this.#log(`${forwardedPortText(port)}: ${(e as Error).message}`);
        conn.close();
      },
    ).catch(() => {}).finally(() => this.#conns.delete(conn));
  }

  /** A channel over the current tunnel; a tunnel that fails to give one is dropped and a new one tried once. */
  async #channel(guestPort: number): Promise<Duplex> {
    const first = await this.#current();
    try {
      return await withTimeout(first.forward(guestPort), this.#channelTimeoutMs);
    } catch (e) {
      if (e instanceof ChannelRefused) throw e;
      this.#drop(first, `tunnel did not answer (${(e as Error).message}): opening a new one`);
      return await withTimeout((await this.#current()).forward(guestPort), this.#channelTimeoutMs);
    }
  }

  #current(): Promise<Tunnel> {
    if (this.#tunnel) return this.#tunnel;
    const opening = this.#open().then((tunnel) => {
      this.tunnelsOpened++;
      this.#log(`tunnel ${this.tunnelsOpened} open`);
      tunnel.onClose(() => {
        if (this.#tunnel === opening) this.#tunnel = undefined;
        if (!this.#closed) {
          this.#log(`tunnel ${this.tunnelsOpened} closed: the next connection opens a new one`);
        }
      });
      return tunnel;
    });
    this.#tunnel = opening;
    // A failed attempt is not kept: the next connection tries again.
    opening.catch(() => {
      if (this.#tunnel === opening) this.#tunnel = undefined;
    });
    return opening;
  }

  #drop(tunnel: Tunnel, why: string): void {
    this.#log(why);
    this.#tunnel = undefined;
    tunnel.close();
  }

  /** Stops listening, closes the carried connections and the tunnel. */
  close(): void {
    this.#closed = true;
    for (const l of this.#listeners) l.close();
    this.#listeners = [];
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#tunnel?.then((t) => t.close(), () => {});
    this.#tunnel = undefined;
  }
}

/** The guest answered and refused the channel (nothing listens on the port): the tunnel itself is fine. */
export class ChannelRefused extends Error {
  override name = "ChannelRefused";
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  const late = Symbol("late");
  const result = await within(p, ms, late);
  if (result === late) throw new Error(`no answer in ${ms / 1000}s`);
  return result as T;
}
