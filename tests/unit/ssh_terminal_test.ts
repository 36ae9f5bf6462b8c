/**
 * Sessions as lv ssh opens them, against an ssh2 server speaking the real protocol on loopback: an
 * interactive session follows the terminal's size (window-change on SIGWINCH), and ssh.forwardAgent asks
 * for agent forwarding (with a real ssh-agent), and only then.
 */
import assert from "node:assert/strict";
import { Server } from "ssh2";

// ssh2's server side has no types here: the few shapes this test uses.
interface Size {
  rows: number;
  cols: number;
}
type Answer = (() => void) | undefined;
interface Channel {
  write(text: string | Uint8Array): void;
  on(event: "data", fn: (d: Uint8Array) => void): void;
  on(event: "end", fn: () => void): void;
  exit(code: number): void;
  end(): void;
}
interface X11Request {
  single: boolean;
  protocol: string;
  /** The hex digits as bytes. */
  cookie: Uint8Array;
  screen: number;
}
interface Session {
  on(event: "x11", fn: (ok: Answer, reject: Answer, info: X11Request) => void): void;
  on(event: "pty" | "window-change", fn: (ok: Answer, reject: Answer, info: Size) => void): void;
  on(
    event: "shell" | "exec",
    fn: (ok: () => Channel, reject: Answer, info: { command: string }) => void,
  ): void;
  on(event: "auth-agent", fn: (ok: Answer) => void): void;
}
interface ServerClient {
  x11(addr: string, port: number, cb: (err: Error | undefined, channel: Channel) => void): void;
  on(event: "authentication", fn: (ctx: { accept(): void }) => void): void;
  on(event: "session", fn: (accept: () => Session) => void): void;
  on(event: "error", fn: () => void): void;
}
import { GuestConnection } from "../../src/guest/ssh_client.ts";
import { xServerOf } from "../../src/guest/x11.ts";

async function keygen(dir: string, name: string): Promise<string> {
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/${name}`],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return Deno.readTextFileSync(`${dir}/${name}`);
}

/** An ssh2 server on loopback accepting any key, `onSession` handling each session; and lv's connection to it. */
async function guest(dir: string, onSession: (session: Session, client: ServerClient) => void) {
  const server = new Server({ hostKeys: [await keygen(dir, "host")] }, (client: ServerClient) => {
    client.on("authentication", (ctx) => ctx.accept());
    client.on("session", (accept) => onSession(accept(), client));
    client.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const privateKey = await keygen(dir, "user");
  return {
    connect: (forwardAgent = false) =>
      GuestConnection.connect({ host: "127.0.0.1", port, user: "vagrant", privateKey, forwardAgent }),
    close: () => server.close(),
  };
}

Deno.test("an interactive session sends the new window size when the terminal is resized", async () => {
  const dir = Deno.makeTempDirSync();
  const seen: string[] = [];
  const server = await guest(dir, (session) => {
    session.on("pty", (ok, _reject, info) => {
      seen.push(`pty ${info.rows}x${info.cols}`);
      ok?.();
    });
    session.on("window-change", (ok, _reject, info) => {
      seen.push(`window ${info.rows}x${info.cols}`);
      ok?.();
      stream.write("resized\n");
      stream.exit(0);
      stream.end();
    });
    let stream: Channel;
    session.on("shell", (ok) => {
      stream = ok();
      stream.write("ready\n");
    });
  });
  const conn = await server.connect();
  let output = "";
  let resize: ((rows: number, cols: number) => void) | undefined;
  let unsubscribed = false;
  const guard = setTimeout(() => conn.close(), 10_000); // no window change: the session ends, the test fails
  try {
    const stdin = new ReadableStream<Uint8Array>({ start() {} }); // a terminal nobody types on
    const code = await conn.interactive(undefined, {
      stdin,
      write: (chunk) => {
        output += new TextDecoder().decode(chunk);
        if (output.includes("ready\n") && resize) {
          resize(50, 132);
          resize = undefined;
        }
      },
      pty: { rows: 24, cols: 80, term: "xterm" },
      onResize: (listener) => {
        resize = listener;
        return () => void (unsubscribed = true);
      },
    });
    assert.equal(code, 0);
    assert.deepEqual(seen, ["pty 24x80", "window 50x132"]);
    assert.match(output, /resized/);
    assert.ok(unsubscribed, "the resize listener is removed when the session ends");
  } finally {
    clearTimeout(guard);
    conn.close();
    server.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ssh.forwardAgent asks the guest for agent forwarding, and only when set", async () => {
  const dir = Deno.makeTempDirSync();
  const agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", `${dir}/agent.sock`], stdout: "null" })
    .spawn();
  const requests: string[] = [];
  const server = await guest(dir, (session) => {
    session.on("auth-agent", (ok) => {
      requests.push("auth-agent");
      ok?.();
    });
    session.on("exec", (ok) => {
      const channel = ok();
      channel.exit(0);
      channel.end();
    });
  });
  const socketUp = async () => {
    for (let i = 0; i < 200; i++) {
      try {
        await Deno.stat(`${dir}/agent.sock`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new Error("ssh-agent did not create its socket");
  };
  const saved = Deno.env.get("SSH_AUTH_SOCK");
  try {
    await socketUp();
    Deno.env.set("SSH_AUTH_SOCK", `${dir}/agent.sock`);
    for (const forwardAgent of [false, true]) {
      requests.length = 0;
      const conn = await server.connect(forwardAgent);
      try {
        assert.equal((await conn.exec("true")).code, 0);
      } finally {
        conn.close();
      }
      assert.deepEqual(requests, forwardAgent ? ["auth-agent"] : [], `forwardAgent: ${forwardAgent}`);
    }
  } finally {
    if (saved === undefined) Deno.env.delete("SSH_AUTH_SOCK");
    else Deno.env.set("SSH_AUTH_SOCK", saved);
    server.close();
    agent.kill("SIGTERM");
    await agent.status;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("$DISPLAY names a unix socket or a TCP port", () => {
  assert.deepEqual(xServerOf(":0"), { path: "/tmp/.X11-unix/X0", screen: 0 });
  assert.deepEqual(xServerOf("unix:3.1", "/x"), { path: "/x/X3", screen: 1 });
  assert.deepEqual(xServerOf("localhost:10.0"), { hostname: "localhost", port: 6010, screen: 0 });
  assert.equal(xServerOf(undefined), undefined);
  assert.equal(xServerOf("nonsense"), undefined);
});

Deno.test("ssh.forwardX11: the guest gets the cookie and its X connections reach the local X server", async () => {
  const dir = Deno.makeTempDirSync();
  const requests: X11Request[] = [];
  let guestHeard = "";
  // The local X server: answers "X reply" to whatever it is sent.
  const xserver = Deno.listen({ transport: "unix", path: `${dir}/X0` });
  let xHeard = "";
  const serving = (async () => {
    for await (const conn of xserver) {
      for await (const chunk of conn.readable) {
        xHeard += new TextDecoder().decode(chunk);
        await conn.write(new TextEncoder().encode("X reply"));
        break;
      }
      conn.close();
    }
  })().catch(() => {});
  const server = await guest(dir, (session, client) => {
    session.on("x11", (ok, _reject, info) => {
      requests.push(info);
      ok?.();
    });
    session.on("pty", (ok) => ok?.());
    session.on("shell", (ok) => {
      const shell = ok();
      // An X client on the guest: opens an X11 channel back to lv and talks to the X server.
      client.x11("127.0.0.1", 40000, (err, x) => {
        if (err) return shell.end();
        x.on("data", (d) => {
          guestHeard += new TextDecoder().decode(d);
          shell.exit(0);
          shell.end();
        });
        x.write("hello X");
      });
    });
  });
  const conn = await server.connect();
  const guard = setTimeout(() => conn.close(), 10_000);
  try {
    const code = await conn.interactive(undefined, {
      stdin: new ReadableStream<Uint8Array>({ start() {} }),
      write: () => {},
      pty: { rows: 24, cols: 80, term: "xterm" },
      x11: {
        screen: 0,
        protocol: "MIT-MAGIC-COOKIE-1",
        cookie: "0123456789abcdef0123456789abcdef",
        connect: () => Deno.connect({ transport: "unix", path: `${dir}/X0` }),
      },
    });
    assert.equal(code, 0);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].protocol, "MIT-MAGIC-COOKIE-1");
    assert.equal(new TextDecoder().decode(requests[0].cookie), "0123456789abcdef0123456789abcdef");
    assert.equal(xHeard, "hello X");
    assert.equal(guestHeard, "X reply");
  } finally {
    clearTimeout(guard);
    conn.close();
    server.close();
    try {
      xserver.close();
    } catch { /* the serving loop's end closed it already */ }
    await serving;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a command without a terminal (lv ssh NAME -- CMD < file): no pty, input streamed to its end, output bytes as they are", async () => {
  const dir = Deno.makeTempDirSync();
  const seen: string[] = [];
  const server = await guest(dir, (session) => {
    session.on("pty", (ok) => {
      seen.push("pty");
      ok?.();
    });
    session.on("exec", (ok, _reject, info) => {
      seen.push(info.command);
      const channel = ok();
      // cat, then two bytes that are not UTF-8 once the input has ended.
      channel.on("data", (d) => channel.write(d));
      channel.on("end", () => {
        channel.write(new Uint8Array([0xff, 0xfe]));
        channel.exit(0);
        channel.end();
      });
    });
  });
  const conn = await server.connect();
  const guard = setTimeout(() => conn.close(), 10_000);
  try {
    const chunks: Uint8Array[] = [];
    const input = new TextEncoder().encode("héllo\n");
    const code = await conn.interactive("cat", {
      stdin: new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(input.subarray(0, 2)); // "é" split across two writes
          c.enqueue(input.subarray(2));
          c.close();
        },
      }),
      write: (chunk) => chunks.push(chunk.slice()),
    });
    assert.equal(code, 0);
    assert.deepEqual(seen, ["cat"]);
    const out = new Uint8Array(chunks.flatMap((c) => [...c]));
    assert.deepEqual([...out], [...input, 0xff, 0xfe]);
  } finally {
    clearTimeout(guard);
    conn.close();
    server.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
