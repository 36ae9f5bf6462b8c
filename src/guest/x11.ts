/**
 * X11 forwarding for lv ssh (ssh.forwardX11): where this machine's X server listens ($DISPLAY) and its
 * MIT-MAGIC-COOKIE (xauth), so the guest's X clients reach it through the SSH connection.
 */

/** The X server a display name points at: a unix socket for ":N", TCP port 6000+N for "host:N". */
export type XServer = { path: string; screen: number } | { hostname: string; port: number; screen: number };

/** Parses $DISPLAY (":0", ":1.0", "unix:0", "localhost:10.0"); undefined when it is not a display. */
export function xServerOf(display: string | undefined, socketDir = "/tmp/.X11-unix"): XServer | undefined {
  const m = display?.match(/^([^:]*):(\d+)(?:\.(\d+))?$/);
  if (!m) return undefined;
  const [_, host, n, screen] = m;
  const s = Number(screen ?? 0);
  if (host === "" || host === "unix") return { path: `${socketDir}/X${n}`, screen: s };
  return { hostname: host, port: 6000 + Number(n), screen: s };
}

/** Opens a connection to the X server. */
export function connectX(server: XServer): Promise<Deno.Conn> {
  return "path" in server
    ? Deno.connect({ transport: "unix", path: server.path })
    : Deno.connect({ hostname: server.hostname, port: server.port });
}

/** The display's cookie from `xauth list DISPLAY` ("MIT-MAGIC-COOKIE-1", hex), if xauth has one. */
export async function xauthCookie(
  display: string,
): Promise<{ protocol: string; cookie: string } | undefined> {
  try {
    const out = await new Deno.Command("xauth", { args: ["list", display], stderr: "null" }).output();
    const fields = new TextDecoder().decode(out.stdout).split("\n")[0]?.trim().split(/\s+/) ?? [];
    return fields.length === 3 ? { protocol: fields[1], cookie: fields[2] } : undefined;
  } catch {
    return undefined; // no xauth: the guest gets a random cookie
  }
}
