/** What answers on a TCP port of this namespace's loopback (forwarded ports in integration and e2e tests). */

/** The first line sent on 127.0.0.1:port (an SSH banner); "" when the connection is closed at once. */
export async function banner(port: number, timeoutMs = 30_000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, timeoutMs);
  try {
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0];
  } catch (e) {
    if (timedOut) throw new Error(`127.0.0.1:${port} accepted but said nothing in ${timeoutMs / 1000}s`);
    throw e;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

/** Whether anything listens on 127.0.0.1:port. */
export async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return false;
    throw e;
  }
}
