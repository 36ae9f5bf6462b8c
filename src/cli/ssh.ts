/** lv ssh NAME [-- command...] and lv ssh-config NAME: reach a guest with the pinned host key. */
import type { Domain } from "../api/types.ts";
import { type SshEndpoint, sshEndpointOf } from "../api/ssh_endpoint.ts";
import { privateKeyPath } from "../guest/key_files.ts";
import { hostAlias, knownHostsFile } from "../guest/known_hosts.ts";
import { GuestConnection, type X11Forward } from "../guest/ssh_client.ts";
import { connectX, xauthCookie, xServerOf } from "../guest/x11.ts";
import { CommandFailed } from "./errors.ts";
import { describeCondition } from "./await_objects.ts";
import type { Runtime } from "./runtime.ts";
import { writeAll } from "./output.ts";

interface Reach {
  dom: Domain;
  endpoint: SshEndpoint;
  hostKey: string;
  keyFile: string;
}

async function reach(rt: Runtime, name: string, namespace: string): Promise<Reach> {
  const dom = await rt.store.get({ kind: "Domain", namespace, name }) as Domain | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const endpoint = sshEndpointOf(dom);
  const hostKey = dom.status.sshHostKey;
  if (dom.status.state !== "running" || !endpoint || !hostKey) {
    throw new CommandFailed(
      `domain/${name} has not answered SSH yet (${
        describeCondition(dom)
      }); wait with: lv wait --for=condition=Ready domain/${name}`,
    );
  }
  const keyFile = await privateKeyPath(rt.home, rt.store, dom);
  if (!keyFile) throw new CommandFailed(`domain/${name} has no SSH private key: set spec.ssh.privateKey`);
  return { dom, endpoint, hostKey, keyFile };
}

/** An SSH connection to the running guest of domain `name`, its host key pinned (lv ssh, lv cp). */
export async function connectGuest(
  rt: Runtime,
  name: string,
  namespace: string,
): Promise<{ conn: GuestConnection; dom: Domain }> {
  const r = await reach(rt, name, namespace);
  const conn = await GuestConnection.connect({
    host: r.endpoint.host,
    port: r.endpoint.port,
    user: r.dom.spec.ssh.user,
    privateKey: await Deno.readTextFile(r.keyFile),
    pinnedHostKey: r.hostKey,
    forwardAgent: r.dom.spec.ssh.forwardAgent,
    via: rt.jumpFor(r.dom),
  });
  return { conn, dom: r.dom };
}

/**
 * Runs a command (exit code passed through) or the login shell, as ssh does: on a pseudo-terminal when this
 * process's input is a terminal, else without one, this process's input streamed to it (`lv ssh web -- 'cat >
 * f' < f`; `lv ssh web < script.sh` runs the script), output bytes as they are. Returns the exit code.
 */
export async function ssh(rt: Runtime, name: string, namespace: string, command: string[]): Promise<number> {
  const { conn, dom } = await connectGuest(rt, name, namespace);
  try {
    const tty = Deno.stdin.isTerminal();
    const size = tty ? Deno.consoleSize() : undefined;
    const pty = size &&
      { rows: size.rows, cols: size.columns, term: Deno.env.get("TERM") ?? "xterm-256color" };
    if (tty) Deno.stdin.setRaw(true);
    try {
      return await conn.interactive(command.length > 0 ? command.join(" ") : undefined, {
        stdin: Deno.stdin.readable,
        write: (chunk, stream) => writeAll(stream === "out" ? Deno.stdout : Deno.stderr, chunk),
        pty,
        onResize: tty ? followWindowSize : undefined,
        x11: dom.spec.ssh.forwardX11 ? await x11Forward(rt) : undefined,
      });
    } finally {
      if (tty) Deno.stdin.setRaw(false);
    }
  } finally {
    conn.close();
  }
}

/** ssh.forwardX11: the local X server $DISPLAY names, or a warning and no forwarding without one. */
async function x11Forward(rt: Runtime): Promise<X11Forward | undefined> {
  const display = Deno.env.get("DISPLAY");
  const server = xServerOf(display);
  if (!display || !server) {
    rt.output.err("warning: ssh.forwardX11 is set but $DISPLAY names no X server: X11 is not forwarded\n");
    return undefined;
  }
  return { screen: server.screen, ...await xauthCookie(display), connect: () => connectX(server) };
}

/** Calls `listener` with the terminal's new size on each SIGWINCH, until the returned function is called. */
function followWindowSize(listener: (rows: number, cols: number) => void): () => void {
  const handler = () => {
    const size = Deno.consoleSize();
    listener(size.rows, size.columns);
  };
  Deno.addSignalListener("SIGWINCH", handler);
  return () => Deno.removeSignalListener("SIGWINCH", handler);
}

/** An OpenSSH config block: plain ssh, scp and rsync reach the guest with the pinned key. */
export async function sshConfig(rt: Runtime, names: string[], namespace: string): Promise<void> {
  for (const name of names) {
    const r = await reach(rt, name, namespace);
    const knownHosts = knownHostsFile(rt.home, r.dom, r.hostKey);
    const jump = rt.jumpFor(r.dom);
    rt.output.out(
      [
        `Host ${name}`,
        `  HostName ${r.endpoint.host}`,
        `  User ${r.dom.spec.ssh.user}`,
        `  Port ${r.endpoint.port}`,
        `  IdentityFile ${r.keyFile}`,
        `  IdentitiesOnly yes`,
        `  UserKnownHostsFile ${knownHosts}`,
        `  StrictHostKeyChecking yes`,
        `  HostKeyAlias ${hostAlias(r.dom)}`,
        // Its private network is reached through the libvirt host, with lv's ssh (pinned host key, key file).
        ...(jump ? [`  ProxyCommand ${jump.proxyCommand}`] : []),
        ...(r.dom.spec.ssh.forwardAgent ? ["  ForwardAgent yes"] : []),
        ...(r.dom.spec.ssh.forwardX11 ? ["  ForwardX11 yes"] : []),
        "",
      ].join("\n") + "\n",
    );
  }
}
