/**
 * GuestConnection against servers on this machine's loopback that misbehave as a booting guest's sshd can:
 * the login settles (fails) instead of waiting forever.
 */
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/guest/key_files.ts";
import { GuestConnection } from "../../src/guest/ssh_client.ts";
import "../../src/guest/ssh2_globals.ts";
import { loopbackSshServer } from "./ssh_loopback_server.ts";
import {
  type AcceptConnection,
  type AuthContext,
  type Connection,
  type ServerChannel,
  type Session,
} from "ssh2";

/** lv's login to a server on this machine's loopback, with a key of its own. */
async function connectTo(port: number): Promise<GuestConnection> {
  return await GuestConnection.connect({
    host: "127.0.0.1",
    port,
    user: "vagrant",
    privateKey: (await generateKeyPair("test")).private,
  });
}

/** A TCP server on 127.0.0.1 that sends `greeting` to each connection, reads what the client sends, and closes it. */
function closingServer(greeting: string): { port: number; stop: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      if (greeting) {
        await conn.write(new TextEncoder().encode(greeting)).catch(() => {});
        await conn.read(new Uint8Array(4096)).catch(() => null);
      }
      conn.close();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stop: async () => {
      listener.close();
      await served;
    },
  };
}

/** Whether `p` settles within `ms` (a hang fails the test instead of hanging it). */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  const done = await Promise.race([p.then(() => true, () => true), guard]);
  clearTimeout(timer);
  return done;
}

for (
  const [what, greeting] of [
    ["an sshd that closes after its version line (restarting, MaxStartups)", "SSH-2.0-OpenSSH_9.2p1\r\n"],
    ["a port that accepts and closes at once (a forward before sshd listens)", ""],
  ]
) {
  Deno.test(`GuestConnection.connect rejects on ${what}`, async () => {
    const server = closingServer(greeting);
    try {
      const login = GuestConnection.connect({
        host: "127.0.0.1",
        port: server.port,
        user: "vagrant",
        privateKey: (await generateKeyPair("test")).private,
        timeoutMs: 60_000,
      });
      login.catch(() => {});
      assert.equal(await settles(login, 10_000), true, "the login never settled");
      await assert.rejects(login, /closed|lost|ended/i);
    } finally {
      await server.stop();
    }
  });
}

Deno.test("GuestConnection.exec rejects when the connection drops while the command runs", async () => {
  const clients: Connection[] = [];
  let running: () => void = () => {};
  const ran = new Promise<void>((r) => running = r);
  const server = await loopbackSshServer((client) => {
    clients.push(client);
    client.on("authentication", (ctx: AuthContext) => ctx.accept());
    client.on("session", (accept: AcceptConnection<Session>) => {
      accept().on("exec", (acceptExec: AcceptConnection<ServerChannel>) => {
        acceptExec(); // a command that never ends
        running();
      });
    });
  });
  try {
    const conn = await connectTo(server.port);
    const exec = conn.exec("sleep infinity");
    exec.catch(() => {});
    await ran;
    for (const c of clients) c.end(); // the guest is gone
    assert.equal(await settles(exec, 10_000), true, "exec waited on a connection that is gone");
    await assert.rejects(exec, /the SSH connection closed while a command ran/);
    conn.close();
  } finally {
    await server.close();
  }
});

Deno.test("GuestConnection.connect logs in with the key at once: no 'none' request first (a round trip to a busy guest)", async () => {
  const attempts: string[] = [];
  const server = await loopbackSshServer((client) => {
    client.on("authentication", (ctx: AuthContext) => {
      // As OpenSSH answers: "none" fails naming the methods; a key is first offered, then signed.
      const signed = ctx.method === "publickey" && !!(ctx as { signature?: unknown }).signature;
      attempts.push(ctx.method === "publickey" ? `publickey ${signed ? "signed" : "offered"}` : ctx.method);
      if (ctx.method === "publickey") ctx.accept();
      else ctx.reject(["publickey"]);
    });
  });
  try {
    (await connectTo(server.port)).close();
    assert.deepEqual(attempts, ["publickey offered", "publickey signed"]);
  } finally {
    await server.close();
  }
});
