/**
 * Real forwarder processes (lv port-forward --supervised, run by deno from this checkout): started detached
 * in a session of their own, answering once they listen; a port in use refused by name; a process killed with
 * kill -9 seen as dead and started again; stopped with nothing left running or listening.
 */
import assert from "node:assert/strict";
import { ForwarderStartError } from "../../src/guest/forwarder/forwarder_processes.ts";
import { checkoutForwarders, freePort } from "./forwarder_fixture.ts";
import {
  deadForwarders,
  ensureForwarder,
  type ForwarderConfig,
  forwarderLog,
  stopForwarder,
} from "../../src/guest/forwarder/forwarder_supervisor.ts";

const processes = checkoutForwarders();

function config(home: string, port: number): ForwarderConfig {
  const uid = `uid-${crypto.randomUUID()}`;
  return {
    uid,
    name: "web",
    namespace: "default",
    ports: [{ host: port, guest: 22, hostIp: "127.0.0.1", protocol: "tcp" }],
    // Nothing answers there: each connection is closed after the tunnel fails to open.
    target: {
      host: "127.0.0.1",
      port: 1,
      user: "vagrant",
      keyFile: `${home}/no-key`,
      hostKey: "ssh-ed25519 AAAA",
    },
    logFile: forwarderLog(home, uid),
  };
}

function session(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3];
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function listening(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return false;
  } catch {
    return true;
  }
}

Deno.test("a supervised forwarder runs detached, is revived after kill -9, and stops leaving nothing", async () => {
  const home = Deno.makeTempDirSync();
  const port = freePort();
  const c = config(home, port);
  let pids: number[] = [];
  try {
    const started = await ensureForwarder(home, { uid: c.uid, config: c }, processes);
    assert.equal(started.action, "started");
    const pid = (started as { pid: number }).pid;
    pids.push(pid);
    assert.ok(processes.alive(pid, c.uid));
    assert.notEqual(session(pid), session(Deno.pid), "its own session: a Ctrl-C of lv does not reach it");
    assert.ok(listening(port));
    // A connection it cannot carry (no guest there) is closed, and the forwarder goes on.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal(await conn.read(new Uint8Array(1)), null);
    conn.close();
    assert.ok(processes.alive(pid, c.uid));
    assert.match(Deno.readTextFileSync(c.logFile), /forwarding 127\.0\.0\.1:\d+->22/);

    Deno.kill(pid, "SIGKILL");
    await until("the killed forwarder to be seen dead", () => !processes.alive(pid, c.uid));
    assert.deepEqual(deadForwarders(home, processes).map((r) => r.pid), [pid]);
    const revived = await ensureForwarder(home, { uid: c.uid, config: c }, processes);
    assert.equal(revived.action, "revived");
    pids.push((revived as { pid: number }).pid);
    assert.ok(listening(port));

    assert.equal(await stopForwarder(home, c.uid, processes), true);
    for (const p of pids) assert.equal(processes.alive(p, c.uid), false);
    assert.equal(listening(port), false, "the port is free again");
    assert.deepEqual([...Deno.readDirSync(`${home}/forwarders`)], [], "no record, no log left");
    pids = [];
  } finally {
    for (const p of pids) if (processes.alive(p, c.uid)) Deno.kill(p, "SIGKILL");
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("a supervised forwarder on a port in use says which, and leaves no process", async () => {
  const home = Deno.makeTempDirSync();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const c = config(home, port);
  try {
    await assert.rejects(ensureForwarder(home, { uid: c.uid, config: c }, processes), (e: Error) => {
      assert.ok(e instanceof ForwarderStartError);
      assert.equal(e.reason, "PortInUse");
      assert.equal(e.message, `host port 127.0.0.1:${port} is in use (forwarded to guest port 22)`);
      return true;
    });
    assert.deepEqual(deadForwarders(home, processes), []);
  } finally {
    taken.close();
    Deno.removeSync(home, { recursive: true });
  }
});
