/**
 * The forwarder's core on fake tunnels (a channel that echoes), and its supervision on fake processes: the
 * decision, the record, a dead process started again, a changed config restarting it, a start that fails.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import type { Domain, ForwardedPort } from "../../src/api/types.ts";
import type { Store } from "../../src/store/store.ts";
import { forwarderConfig } from "../../src/guest/forwarder/forwarder_config.ts";
import {
  ChannelRefused,
  PortForwarder,
  PortInUseError,
  type Tunnel,
} from "../../src/guest/forwarder/port_forwarder.ts";
import {
  deadForwarders,
  decideForwarder,
  ensureForwarder,
  type ForwarderConfig,
  readRecord,
  stopForwarder,
} from "../../src/guest/forwarder/forwarder_supervisor.ts";
import { FakeForwarders } from "./fake_forwarders.ts";
import { freePort } from "./forwarder_fixture.ts";

function fwd(host: number, guest = 22): ForwardedPort {
  return { host, guest, hostIp: "127.0.0.1", protocol: "tcp" };
}

/** Tunnels whose channels echo what they get; `drop()` ends the current one as a guest reboot would. */
class EchoTunnels {
  opened = 0;
  refuse = new Set<number>();
  /** The next this many tunnels never answer a channel request. */
  hanging = 0;
  failOpen = false;
  #close: (() => void)[] = [];
  open = (): Promise<Tunnel> => {
    if (this.failOpen) return Promise.reject(new Error("connect ECONNREFUSED"));
    this.opened++;
    const hang = this.hanging > 0;
    if (hang) this.hanging--;
    const listeners: (() => void)[] = [];
    const close = () => listeners.splice(0).forEach((l) => l());
    this.#close.push(close);
    return Promise.resolve({
      forward: (port: number) => {
        if (hang) return new Promise<never>(() => {});
        if (this.refuse.has(port)) return Promise.reject(new ChannelRefused(`guest port ${port}: refused`));
        return Promise.resolve(new PassThrough());
      },
      onClose: (l: () => void) => listeners.push(l),
      close,
    });
  };
  drop(): void {
    this.#close.splice(0).forEach((c) => c());
  }
}

/** Sends `text` through the forwarded port; what comes back before the connection ends. */
async function roundTrip(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(text));
  await conn.closeWrite();
  let got = "";
  for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) got += chunk;
  return got;
}

async function withForwarder(
  ports: ForwardedPort[],
  tunnels: EchoTunnels,
  fn: (f: PortForwarder) => Promise<void>,
  channelTimeoutMs?: number,
): Promise<void> {
  const f = new PortForwarder(ports, tunnels.open, { channelTimeoutMs });
  f.listen();
  const serving = f.serve();
  try {
    await fn(f);
  } finally {
    f.close();
    await serving;
  }
}

Deno.test("PortForwarder carries each connection through one tunnel", async () => {
  const tunnels = new EchoTunnels();
  const [a, b] = [freePort(), freePort()];
  await withForwarder([fwd(a, 22), fwd(b, 80)], tunnels, async () => {
    assert.equal(await roundTrip(a, "hello"), "hello");
    assert.equal(await roundTrip(b, "world"), "world");
    assert.equal(tunnels.opened, 1, "one tunnel for both ports");
  });
});

Deno.test("PortForwarder carries 8 MiB both ways, each side paced by the other", async () => {
  const tunnels = new EchoTunnels();
  const port = freePort();
  await withForwarder([fwd(port)], tunnels, async () => {
    const data = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 251);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const sending = (async () => {
      const w = conn.writable.getWriter();
      for (let at = 0; at < data.length; at += 65536) await w.write(data.subarray(at, at + 65536));
      await conn.closeWrite();
    })();
    const got: Uint8Array[] = [];
    for await (const chunk of conn.readable) got.push(chunk);
    await sending;
    const all = new Uint8Array(got.reduce((n, c) => n + c.length, 0));
    got.reduce((at, c) => (all.set(c, at), at + c.length), 0);
    assert.equal(all.length, data.length);
    assert.ok(all.every((b, i) => b === data[i]), "the same bytes came back");
  });
});

Deno.test("PortForwarder opens a new tunnel after the old one drops (the guest rebooted)", async () => {
  const tunnels = new EchoTunnels();
  const port = freePort();
  await withForwarder([fwd(port)], tunnels, async (f) => {
    assert.equal(await roundTrip(port, "one"), "one");
    tunnels.drop();
    assert.equal(await roundTrip(port, "two"), "two");
    assert.equal(f.tunnelsOpened, 2);
  });
});

Deno.test("PortForwarder drops a tunnel that does not answer and uses a new one", async () => {
  const tunnels = new EchoTunnels();
  const port = freePort();
  tunnels.hanging = 1;
  await withForwarder([fwd(port)], tunnels, async () => {
    assert.equal(await roundTrip(port, "late"), "late");
    assert.equal(tunnels.opened, 2);
  }, 300);
});

Deno.test("PortForwarder closes a connection the guest refuses, keeps the tunnel, and tries a failed open again", async () => {
  const tunnels = new EchoTunnels();
  const port = freePort();
  await withForwarder([fwd(port, 81)], tunnels, async () => {
    tunnels.refuse.add(81);
    assert.equal(await roundTrip(port, "x"), "");
    tunnels.refuse.clear();
    assert.equal(await roundTrip(port, "y"), "y");
    assert.equal(tunnels.opened, 1, "a refused channel keeps the tunnel");
    tunnels.drop();
    tunnels.failOpen = true;
    assert.equal(await roundTrip(port, "z"), "", "no tunnel: the connection is closed");
    tunnels.failOpen = false;
    assert.equal(await roundTrip(port, "w"), "w");
  });
});

Deno.test("PortForwarder.listen() names the port in use and listens on none", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const free = freePort();
  try {
    const f = new PortForwarder([fwd(free), fwd(port, 80)], new EchoTunnels().open);
    assert.throws(() => f.listen(), (e: Error) => {
      assert.ok(e instanceof PortInUseError);
      assert.equal(e.message, `host port 127.0.0.1:${port} is in use (forwarded to guest port 80)`);
      return true;
    });
    Deno.listen({ hostname: "127.0.0.1", port: free }).close(); // released again
  } finally {
    taken.close();
  }
});

Deno.test("decideForwarder() decides from the record, the process and the wanted config", () => {
  const record = {
    pid: 1,
    uid: "u",
    name: "web",
    namespace: "default",
    ports: [],
    digest: "d1",
    startedAt: "",
  };
  const cases: [typeof record | undefined, boolean, string | undefined, string][] = [
    [undefined, false, undefined, "none"],
    [undefined, false, "d1", "start"],
    [record, true, "d1", "keep"],
    [record, true, "d2", "restart"],
    [record, false, "d1", "revive"],
    [record, true, undefined, "stop"],
    [record, false, undefined, "stop"],
  ];
  for (const [rec, alive, digest, want] of cases) {
    assert.equal(
      decideForwarder(rec, { alive, digest }),
      want,
      JSON.stringify({ rec: !!rec, alive, digest }),
    );
  }
});

function config(home: string, ports: ForwardedPort[]): ForwarderConfig {
  return {
    uid: "uid-1",
    name: "web",
    namespace: "default",
    ports,
    target: { host: "192.0.2.10", port: 22, user: "vagrant", keyFile: "/k", hostKey: "ssh-ed25519 AAAA" },
    logFile: `${home}/forwarders/uid-1.log`,
  };
}

Deno.test("ensureForwarder() starts, keeps, restarts on change, revives a killed one, and stops", async () => {
  const home = Deno.makeTempDirSync();
  const p = new FakeForwarders();
  try {
    const c = config(home, [fwd(2222)]);
    assert.deepEqual(await ensureForwarder(home, { uid: c.uid, config: c }, p), {
      action: "started",
      pid: 100,
    });
    assert.equal(readRecord(home, c.uid)?.pid, 100);
    assert.deepEqual(readRecord(home, c.uid)?.ports, ["127.0.0.1:2222->22/tcp"]);
    assert.deepEqual(await ensureForwarder(home, { uid: c.uid, config: c }, p), {
      action: "running",
      pid: 100,
    });

    const changed = config(home, [fwd(2222), fwd(8080, 80)]);
    assert.deepEqual(await ensureForwarder(home, { uid: c.uid, config: changed }, p), {
      action: "restarted",
      pid: 101,
    });

    p.running.delete(101); // kill -9
    assert.deepEqual(deadForwarders(home, p).map((r) => r.pid), [101]);
    assert.deepEqual(await ensureForwarder(home, { uid: c.uid, config: changed }, p), {
      action: "revived",
      pid: 102,
      deadPid: 101,
    });
    assert.deepEqual(deadForwarders(home, p), []);

    assert.equal(await stopForwarder(home, c.uid, p), true);
    assert.equal(readRecord(home, c.uid), undefined);
    assert.equal(await stopForwarder(home, c.uid, p), false, "stopping again changes nothing");
    assert.deepEqual(p.log, [
      "start 100 2222",
      "stop 100",
      "start 101 2222,8080",
      "start 102 2222,8080",
      "stop 102",
    ]);
    assert.deepEqual([...p.running], []);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("ensureForwarder() leaves no record when the forwarder cannot start (a port in use)", async () => {
  const home = Deno.makeTempDirSync();
  const p = new FakeForwarders();
  try {
    p.failWith = new Error("host port 127.0.0.1:2222 is in use (forwarded to guest port 22)");
    const c = config(home, [fwd(2222)]);
    await assert.rejects(ensureForwarder(home, { uid: c.uid, config: c }, p), /127\.0\.0\.1:2222 is in use/);
    assert.equal(readRecord(home, c.uid), undefined);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("forwarderConfig() reaches the guest as lv ssh does; through the libvirt host for a remote context", async () => {
  const home = Deno.makeTempDirSync();
  try {
    const dom = {
      metadata: { name: "web", namespace: "default", uid: "uid-9" },
      spec: {
        ssh: { user: "vagrant", port: 22, privateKey: "/keys/web" },
        forwardedPorts: [fwd(2222)],
      },
      status: { state: "running", guest: { address: "10.0.0.5" }, sshHostKey: "ssh-ed25519 AAAA" },
    } as unknown as Domain;
    const store = {} as Store; // not asked: spec.ssh.privateKey names the key
    const jump = {
      host: "hv1",
      port: 22,
      user: "root",
      knownHostsFile: `${home}/kh`,
      proxyCommand: "ssh -W %h:%p hv1",
    };
    const c = await forwarderConfig(dom, { home, store, jump });
    assert.deepEqual(c, {
      uid: "uid-9",
      name: "web",
      namespace: "default",
      ports: [fwd(2222)],
      target: {
        host: "10.0.0.5",
        port: 22,
        user: "vagrant",
        keyFile: "/keys/web",
        hostKey: "ssh-ed25519 AAAA",
        via: jump,
      },
      logFile: `${home}/forwarders/uid-9.log`,
    });
    const unreached = { ...dom, status: { state: "running" } } as unknown as Domain;
    assert.equal(await forwarderConfig(unreached, { home, store }), undefined, "no address yet");
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("ensureForwarder() from two lv commands at once starts one forwarder, not two", async () => {
  const home = Deno.makeTempDirSync();
  const p = new FakeForwarders();
  try {
    const c = config(home, [fwd(2222)]);
    await ensureForwarder(home, { uid: c.uid, config: c }, p);
    p.running.delete(100); // kill -9: both commands find it dead
    const both = await Promise.all([
      ensureForwarder(home, { uid: c.uid, config: c }, p),
      ensureForwarder(home, { uid: c.uid, config: c }, p),
    ]);
    assert.deepEqual(both.map((o) => o.action).sort(), ["revived", "running"]);
    assert.deepEqual([...p.running], [101]);
    assert.equal(readRecord(home, c.uid)?.pid, 101);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
