/**
 * libvirt over SSH (qemu+ssh://): lv hands libvirt an ssh wrapper of its own (the URI's `command=`), so that
 *
 * - the hypervisor's host key is trusted on first use and pinned in $LV_HOME/ssh/known_hosts (the same file
 *   lv checks when it jumps through that host to reach guests);
 * - a password is given to ssh by an askpass helper, never on a command line, in a URI, in the store or in a
 *   file of its own (see `passwordLookup`);
 * - one SSH connection is shared by the many short virsh calls (ControlMaster, kept 60 s).
 *
 * The same wrapper is the ProxyCommand that reaches guests on a remote host (rsync, `lv ssh-config`).
 */
import { createHash } from "node:crypto";
import { joinPath as join } from "../api/posix_path.ts";
import { isSshUri } from "./ssh_uri.ts";
import type { Connection } from "./config.ts";
import { shellQuote } from "./shell_quote.ts";
import { writeFileAtomic } from "./write_file.ts";

export { isRemoteUri, isSshUri } from "./ssh_uri.ts";

/** The libvirt host as an SSH jump host for reaching guests on its private networks. */
export interface JumpHost {
  host: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  password?: string;
  /** OpenSSH known_hosts file where the host's key is pinned. */
  knownHostsFile: string;
  /** An OpenSSH ProxyCommand reaching %h:%p through this host. */
  proxyCommand: string;
}

export interface Transport {
  /** The URI virsh is given (the shown URI plus lv's ssh wrapper and key file). */
  connectUri: string;
  /** Set for ssh URIs. */
  jump?: JumpHost;
}

/**
 * Where a key file is: `~/x` in the home directory; a path without a leading slash in ~/.ssh, as
 * vagrant-libvirt resolves `id_ssh_key_file` (and a URI's `keyfile`), so `id_rsa` is ~/.ssh/id_rsa.
 */
export function resolveKeyFile(path: string): string {
  const home = Deno.env.get("HOME") ?? "/root";
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path.startsWith("/") ? path : join(home, ".ssh", path);
}

/**
 * Prepares the connection's transport: for ssh URIs, writes the wrapper (and askpass helper when there is
 * a password) under $LV_HOME/ssh/<id>/, 0700; other URIs are used as they are.
 */
export function prepareTransport(home: string, connection: Connection): Transport {
  if (!isSshUri(connection.uri)) return { connectUri: connection.uri };
  const url = new URL(connection.uri);
  const settings = connection.settings;
  const keyName = url.searchParams.get("keyfile") || settings?.idSshKeyFile;
  const keyFile = keyName ? resolveKeyFile(keyName) : undefined;
  const password = settings?.password;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 22);
  const user = decodeURIComponent(url.username) || Deno.env.get("USER") || "root";

  const sshDir = join(home, "ssh");
  const id = createHash("sha256").update(`${connection.context ?? ""}\0${connection.uri}\0${keyFile ?? ""}`)
    .digest("hex").slice(0, 12);
  const dir = join(sshDir, id);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const knownHostsFile = join(sshDir, "known_hosts");
  const options = [
    `UserKnownHostsFile=${knownHostsFile}`,
    "StrictHostKeyChecking=accept-new",
    "HashKnownHosts=no",
    "ConnectTimeout=10",
    "ServerAliveInterval=15",
    password ? "NumberOfPasswordPrompts=1" : "BatchMode=yes",
  ];
  if (keyFile) options.push("IdentitiesOnly=yes");
  // A unix socket path holds at most 107 bytes; without a short enough one every call opens its own connection.
  // Named by the password too: a changed password is checked by a new connection, not an old one reused.
  const control = join(dir, `cm-${createHash("sha256").update(password ?? "").digest("hex").slice(0, 8)}`);
  if (control.length < 90) options.push("ControlMaster=auto", `ControlPath=${control}`, "ControlPersist=60");
  removeOldAskpass(join(dir, "askpass"));
  const wrapper = join(dir, "ssh");
  writeExecutable(
    wrapper,
    `#!/bin/sh\n# lv's ssh for ${connection.context ? `context ${connection.context}` : connection.uri}\n` +
      (password ? passwordLookup(sshDir, `LV_SSH_PASSWORD_${id}`, password) : "") +
      `exec ssh ${options.map((o) => `-o ${shellQuote(o)}`).join(" ")} "$@"\n`,
  );
  url.searchParams.set("command", wrapper);
  if (keyFile) url.searchParams.set("keyfile", keyFile);
  if (!password) url.searchParams.set("no_tty", "1");
  const proxy = [
    wrapper,
    "-p",
    String(port),
    "-l",
    user,
    ...(keyFile ? ["-i", keyFile] : []),
    "-W",
    "%h:%p",
    host,
  ];
  return {
    connectUri: url.toString(),
    jump: {
      host,
      port,
      user,
      privateKeyFile: keyFile,
      password,
      knownHostsFile,
      proxyCommand: proxy.map((w) => w === "%h:%p" ? w : shellQuote(w)).join(" "),
    },
  };
}

/**
 * The wrapper's lines giving ssh the password without writing it to a file: lv puts it in its own
 * environment as `variable`, which its children inherit (virsh, rsync and the ssh they start). libvirt starts
 * ssh (this wrapper) with an environment stripped to a few names (SSH_ASKPASS is one, as a program path) and
 * every other file descriptor closed, so the wrapper reads the variable from its parent's environment
 * (/proc/$PPID/environ of virsh, readable only by the same user and root) when its own lacks it. The askpass
 * helper (a file without the secret) prints what the wrapper found. Outside lv (plain ssh with lv ssh-config's
 * ProxyCommand) there is none: ssh asks on the terminal.
 */
function passwordLookup(sshDir: string, variable: string, password: string): string {
  Deno.env.set(variable, password);
  const askpass = join(sshDir, "askpass");
  writeExecutable(askpass, `#!/bin/sh\nprintf '%s\\n' "$LV_SSH_PASSWORD"\n`);
  return `p=$(printenv ${variable} || tr '\\0' '\\n' </proc/$PPID/environ 2>/dev/null | sed -n 's/^${variable}=//p')\n` +
    `if [ -n "$p" ]; then\n` +
    `  LV_SSH_PASSWORD=$p SSH_ASKPASS=${shellQuote(askpass)} SSH_ASKPASS_REQUIRE=force\n` +
    `  export LV_SSH_PASSWORD SSH_ASKPASS SSH_ASKPASS_REQUIRE\n` +
    `fi\n`;
}

/** Older lv kept the password in this file; it goes. */
function removeOldAskpass(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function writeExecutable(path: string, text: string): void {
  try {
    if (Deno.readTextFileSync(path) === text) return;
  } catch { /* new */ }
  writeFileAtomic(path, text, 0o700);
}

/**
 * What an ssh failure under virsh means, in lv's words, with the fix; undefined when stderr shows none.
 * (libvirt wraps ssh's words: "Cannot recv data: ssh: connect to host ... Connection refused".)
 */
export function explainSshFailure(stderr: string, jump: JumpHost): string | undefined {
  const at = `${jump.host}:${jump.port}`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(stderr)) {
    return `the SSH host key of ${at} is not the one lv pinned in ${jump.knownHostsFile}; if the host was ` +
      `reinstalled, remove its line there (ssh-keygen -R '[${jump.host}]:${jump.port}' -f ${jump.knownHostsFile})`;
  }
  if (/Connection refused/i.test(stderr)) {
    return `nothing accepts SSH connections on ${at}: is sshd running there?`;
  }
  if (
    /Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i.test(stderr)
  ) {
    return `the host name ${jump.host} cannot be resolved`;
  }
  if (/timed out|No route to host|Network is unreachable/i.test(stderr)) {
    return `${at} cannot be reached from here`;
  }
  const denied = /Permission denied \(([^)]*)\)/.exec(stderr);
  if (denied) {
    const used = jump.password
      ? "the password"
      : jump.privateKeyFile
      ? `the key ${jump.privateKeyFile}`
      : "no key";
    return `${at} refused ${jump.user} with ${used} (it accepts: ${denied[1]}); check the context's ` +
      `idSshKeyFile, username and password (lv config get-contexts)`;
  }
  if (/Identity file .* not accessible|no such identity/i.test(stderr)) {
    return `the key file ${jump.privateKeyFile} cannot be read`;
  }
  const socket = /Failed to connect socket to '([^']+)'|connect\(\) to ([^ ]+) failed/i.exec(stderr);
  if (socket) {
    return `libvirtd is not running on ${jump.host} (no socket ${socket[1] ?? socket[2]}): start it there ` +
      `(systemctl start libvirtd)`;
  }
  if (/\bnc: (command )?not found/.test(stderr)) {
    return `${jump.host} has neither virt-ssh-helper nor nc to reach libvirtd: install libvirt there ` +
      `(libvirt-clients has virt-ssh-helper)`;
  }
  return undefined;
}
