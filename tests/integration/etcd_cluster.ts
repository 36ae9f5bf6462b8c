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

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()).health === "true";
  } catch {
    return false;
  }
}

export class EtcdCluster {
  readonly members: Member[];
  readonly root: string;

  private constructor(root: string, members: Member[]) {
    this.root = root;
    this.members = members;
  }

  /** Starts `size` members and waits until each is healthy (a leader is elected). */
  static async start(size = 1): Promise<EtcdCluster> {
    requireLab();
    const root = await Deno.makeTempDir({ prefix: "lv-etcd-" });
    const ports = freePorts(size * 2);
    const members = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      client: ports[2 * i],
      peer: ports[2 * i + 1],
      dir: join(root, `m${i}`),
    }));
    const cluster = new EtcdCluster(root, members);
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
    const initial = this.members.map((o) => `${o.name}=http://127.0.0.1:${o.peer}`).join(",");
    const log = Deno.openSync(join(this.root, `${m.name}.log`), { append: true, create: true });
    m.child = new Deno.Command("etcd", {
      args: [
        "--name",
        m.name,
        "--data-dir",
        m.dir,
        "--listen-client-urls",
        `http://127.0.0.1:${m.client}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${m.client}`,
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

  /** etcd://127.0.0.1:P1,127.0.0.1:P2,... (the members given, default all). */
  url(indexes: number[] = this.members.map((_, i) => i)): string {
    return `etcd://${indexes.map((i) => `127.0.0.1:${this.members[i].client}`).join(",")}`;
  }

  endpoints(): string[] {
    return this.members.map((m) => `http://127.0.0.1:${m.client}`);
  }

  /** Waits until every running member reports healthy. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const running = this.members.filter((m) => m.child);
    while (true) {
      const states = await Promise.all(running.map((m) => healthy(m.client)));
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
