/** Joins a Deno connection and a Node duplex stream (an SSH channel) both ways, until either side ends. */
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";

/**
 * Copies `conn`'s bytes into `channel` and `channel`'s into `conn`, each side paced by the other (a slow reader
 * pauses the writer instead of filling memory); an end or error on one side ends the other. Resolves when both
 * directions are done.
 */
export function joinStreams(conn: Deno.Conn, channel: Duplex): Promise<void> {
  const writer = conn.writable.getWriter();
  const toConn = new Promise<void>((resolve) => {
    channel.on("data", (d: Buffer) => {
      writer.write(new Uint8Array(d)).catch(() => channel.destroy());
      if ((writer.desiredSize ?? 1) <= 0) {
        channel.pause();
        writer.ready.then(() => channel.resume(), () => channel.destroy());
      }
    });
    const done = () => {
      writer.close().catch(() => {});
      resolve();
    };
    channel.once("end", done);
    channel.once("close", done);
    channel.once("error", done);
  });
  // Read with conn.read, not conn.readable: the readable stream closes the connection's resource at EOF, and
  // the writes still queued towards `conn` then fail (the tail of the other direction was lost).
  const toChannel = (async () => {
    const buf = new Uint8Array(64 * 1024);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      if (!channel.write(Buffer.from(buf.subarray(0, n)))) await drained(channel);
    }
    channel.end();
  })().catch(() => channel.destroy());
  return Promise.all([toConn, toChannel]).then(() => {});
}

/** Resolves when `channel` takes writes again, or is closed (a write after that fails, ending the copy). */
function drained(channel: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      channel.off("drain", go);
      channel.off("close", go);
      resolve();
    };
    channel.once("drain", go);
    channel.once("close", go);
  });
}
