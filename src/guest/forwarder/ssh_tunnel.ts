/** The forwarder's tunnel: an SSH connection to the guest (lv's key, the pinned host key, keepalives). */
import type { JumpHost } from "../../config/ssh_transport.ts";
import { GuestConnection } from "../ssh_client.ts";
import { ChannelRefused, type TunnelOpener } from "./port_forwarder.ts";

/** Where the guest's sshd is and how lv logs in (no secret: the key is a file, the host key public). */
export interface ForwardTarget {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  hostKey: string;
  /** The remote libvirt host to go through (ssh -J), for a guest on its private network. */
  via?: JumpHost;
}

/** Seconds between keepalives: a dead tunnel is dropped after three unanswered ones. */
const KEEPALIVE_MS = 5_000;

/** Opens SSH tunnels to `target`. */
export function sshTunnelOpener(target: ForwardTarget): TunnelOpener {
  return async () => {
    const conn = await GuestConnection.connect({
      host: target.host,
      port: target.port,
      user: target.user,
      privateKey: await Deno.readTextFile(target.keyFile),
      pinnedHostKey: target.hostKey,
      via: target.via,
      keepaliveMs: KEEPALIVE_MS,
    });
    return {
      forward: (port) =>
        conn.forwardOut("127.0.0.1", port).catch((e: Error) => {
          throw new ChannelRefused(`guest port ${port}: ${e.message}`, { cause: e });
        }),
      onClose: (listener) => conn.onClose(listener),
      close: () => conn.close(),
    };
  };
}
