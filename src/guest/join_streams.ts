/** Joins a Deno connection and a Node duplex stream (an SSH channel) both ways, until either side ends. */
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";

/**
 * Copies `conn`'s bytes into `channel` and `channel`'s into `conn`; an end or error on one side ends the
 * other. Resolves when both directions are done.
 */
export function joinStreams(conn: Deno.Conn, channel: Duplex): Promise<void> {
  const writer = conn.writable.getWriter();
  const toConn = new Promise<void>((resolve) => {
    channel.on("data", (d: Buffer) => writer.write(new Uint8Array(d)).catch(() => channel.destroy()));
    const done = () => {
      writer.close().catch(() => {});
      resolve();
    };
    channel.once("end", done);
    channel.once("close", done);
    channel.once("error", done);
  });
  const toChannel = (async () => {
    for await (const chunk of conn.readable) channel.write(Buffer.from(chunk));
    channel.end();
  })().catch(() => channel.destroy());
  return Promise.all([toConn, toChannel]).then(() => {});
}
