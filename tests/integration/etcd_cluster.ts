/**
 * Real etcd members (Debian's etcd-server) for tests: started on loopback ports chosen free, inside the
 * lab's network namespace, ready when every member reports healthy, stopped by PID.
 *
 * @module
 */
import { join } from "node:path";
import { requireLab } from "./helpers.ts";

interface Member {
  name: string;
  client: number;
  peer: number;
  dir: string;
  child?: Deno.ChildProcess;
}

/** Ports nothing listens on right now (all held at once, so they are distinct). */
function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** A loopback port nothing listens on (a store that refuses connections). */
export function unusedPort(): number {
  return freePorts(1)[0];
}

/** A loopback listener that accepts connections and never answers (a hung store); close() ends it. */
export function silentListener(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const c of held) c.close();
    },
  };
}

async function healthy(port: number, tls?: TlsFiles, http?: Deno.HttpClient): Promise<boolean> {
  try {
    const res = await fetch(`${tls ? "https" : "http"}://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(1000),
      client: http,
    });
    return (await res.json()).health === "true";
  } catch {
    return false;
  }
}

/** PEM files for a TLS member: a CA, a server certificate for 127.0.0.1, a client certificate (no CN). */
export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Makes a CA and certificates in `dir` with openssl. */
export async function makeTls(dir: string): Promise<TlsFiles> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    `${dir}/ca.pem`,
    "-days",
    "1",
    "-subj",
    "/CN=lv-test-ca",
  ]);
  for (const who of ["server", "client"]) {
    // No CommonName: etcd's JSON gateway refuses a client certificate carrying one when auth is on.
    await openssl([
      "req",
      ...ec,
      "-keyout",
      `${dir}/${who}.key`,
      "-out",
      `${dir}/${who}.csr`,
      "-subj",
      `/O=lv-${who}`,
    ]);
    await Deno.writeTextFile(
      `${dir}/${who}.ext`,
      "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    );
    await openssl([
      "x509",
      "-req",
      "-in",
      `${dir}/${who}.csr`,
      "-CA",
      `${dir}/ca.pem`,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-out",
      `${dir}/${who}.pem`,
      "-days",
      "1",
      "-extfile",
      `${dir}/${who}.ext`,
    ]);
  }
  return {
    ca: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
  };
}

export class EtcdCluster {
  readonly members: Member[];
  readonly root: string;
  /** Set when the members serve clients over TLS with client certificates. */
  readonly tls?: TlsFiles;

  private constructor(root: string, members: Member[], tls?: TlsFiles) {
    this.root = root;
    this.members = members;
    this.tls = tls;
  }

  /**
   * Starts `size` members and waits until each is healthy (a leader is elected). `tls`: clients connect
   * over https with a client certificate signed by a CA of the test's own.
   */
  static async start(size = 1, options: { tls?: boolean } = {}): Promise<EtcdCluster> {
    requireLab();
    const root = await Deno.makeTempDir({ prefix: "lv-etcd-" });
    const ports = freePorts(size * 2);
    const members = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      client: ports[2 * i],
      peer: ports[2 * i + 1],
      dir: join(root, `m${i}`),
    }));
    const cluster = new EtcdCluster(root, members, options.tls ? await makeTls(root) : undefined);
    try {
      for (let i = 0; i < size; i++) cluster.#spawn(i);
      await cluster.waitHealthy();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  #spawn(i: number): void {
    const m = this.members[i];
    const scheme = this.tls ? "https" : "http";
    const tlsArgs = this.tls
      ? [
        "--cert-file",
        this.tls.serverCert,
        "--key-file",
        this.tls.serverKey,
        "--client-cert-auth",
        "--trusted-ca-file",
        this.tls.ca,
      ]
      : [];
    const initial = this.members.map((o) => `${o.name}=http://127.0.0.1:${o.peer}`).join(",");
    const log = Deno.openSync(join(this.root, `${m.name}.log`), { append: true, create: true });
    m.child = new Deno.Command("etcd", {
      args: [
        "--name",
        m.name,
        "--data-dir",
        m.dir,
        "--listen-client-urls",
        `${scheme}://127.0.0.1:${m.client}`,
        "--advertise-client-urls",
        `${scheme}://127.0.0.1:${m.client}`,
        ...tlsArgs,
        "--listen-peer-urls",
        `http://127.0.0.1:${m.peer}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${m.peer}`,
        "--initial-cluster",
        initial,
        "--initial-cluster-token",
        `lv-test-${Deno.pid}`,
        // Fast elections, so a killed leader is replaced in about a second.
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    m.child.stderr.pipeTo(log.writable).catch(() => {});
  }

  /** etcd://127.0.0.1:P1,127.0.0.1:P2,... (etcds://...?cacert=&cert=&key= with TLS). */
  url(): string {
    const hosts = this.members.map((m) => `127.0.0.1:${m.client}`).join(",");
    if (!this.tls) return `etcd://${hosts}`;
    return `etcds://${hosts}?cacert=${this.tls.ca}&cert=${this.tls.clientCert}&key=${this.tls.clientKey}`;
  }

  endpoints(): string[] {
    return this.members.map((m) => `${this.tls ? "https" : "http"}://127.0.0.1:${m.client}`);
  }

  /** etcdctl against the members (with the client certificate under TLS). */
  async etcdctl(...args: string[]): Promise<string> {
    const tls = this.tls
      ? ["--cacert", this.tls.ca, "--cert", this.tls.clientCert, "--key", this.tls.clientKey]
      : [];
    const out = await new Deno.Command("etcdctl", {
      args: ["--endpoints", this.endpoints().join(","), ...tls, ...args],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (!out.success) throw new Error(`etcdctl ${args.join(" ")}: ${dec.decode(out.stderr)}`);
    return dec.decode(out.stdout);
  }

  /** Waits until every running member reports healthy. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const running = this.members.filter((m) => m.child);
    while (true) {
      const http = this.tls
        ? Deno.createHttpClient({
          caCerts: [await Deno.readTextFile(this.tls.ca)],
          cert: await Deno.readTextFile(this.tls.clientCert),
          key: await Deno.readTextFile(this.tls.clientKey),
        })
        : undefined;
      const states = await Promise.all(running.map((m) => healthy(m.client, this.tls, http)));
      http?.close();
      if (states.every((s) => s)) return;
      if (Date.now() > deadline) {
        const logs = running.map((m) => {
          const text = Deno.readTextFileSync(join(this.root, `${m.name}.log`));
          return `--- ${m.name}\n${text.slice(-2000)}`;
        });
        throw new Error(`etcd members not healthy after ${timeoutMs / 1000}s\n${logs.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills member i (SIGKILL by default) and waits until it has exited. */
  async kill(i: number, signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.members[i].child;
    if (!child) return;
    this.members[i].child = undefined;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  }

  /** Starts member i again with its data; `wait`: until the running members are healthy. */
  async restart(i: number, options: { wait?: boolean } = {}): Promise<void> {
    this.#spawn(i);
    if (options.wait ?? true) await this.waitHealthy();
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.kill(i, "SIGTERM");
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}
