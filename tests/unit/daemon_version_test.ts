/**
 * lv version's native question to libvirtd (src/libvirt/daemon_version.ts) against a daemon speaking libvirt's
 * RPC framing on a UNIX socket: polkit authentication first when offered, libvirt's errors and other
 * authentication left to virsh (undefined). The real daemon's answer: tests/integration/version_test.ts.
 */
import assert from "node:assert/strict";
import {
  daemonVersion,
  decodeMessage,
  encodeMessage,
  PROC,
  versionText,
  XdrReader,
  XdrWriter,
} from "../../src/libvirt/daemon_version.ts";

/**
 * A daemon on `dir`/libvirt-sock: offers `auth`; refuses every call but the authentication ones until
 * authenticated (as libvirtd does); `fail` names a procedure answered with libvirt's error, `slow` one answered
 * late.
 */
function fakeDaemon(
  dir: string,
  options: { auth: number[]; fail?: number; slow?: { proc: number; ms: number } },
) {
  const calls: number[] = [];
  const listener = Deno.listen({ transport: "unix", path: `${dir}/libvirt-sock` });
  const served = (async () => {
    const conn = await listener.accept();
    let authenticated = options.auth.length === 0 || options.auth[0] === 0;
    let buffered = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    try {
      while (true) {
        while (buffered.length < 4 || buffered.length < new DataView(buffered.buffer).getUint32(0)) {
          const n = await conn.read(chunk);
          if (n === null) return;
          buffered = new Uint8Array([...buffered, ...chunk.subarray(0, n)]);
        }
        const length = new DataView(buffered.buffer).getUint32(0);
        const call = decodeMessage(buffered.slice(4, length));
        buffered = buffered.slice(length);
        calls.push(call.proc);
        // A client gone before a late answer: dropped, as libvirtd does.
        const reply = (status: number, body: Uint8Array) =>
          conn.write(encodeMessage({ proc: call.proc, type: 1, serial: call.serial, status }, body))
            .catch((e) => {
              if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
            });
        const error = (message: string) =>
          reply(1, new XdrWriter().u32(1).u32(7).optionalString(message).u32(2).bytes);
        if (call.proc === options.fail) {
          await error("internal error: this daemon fails here");
          continue;
        }
        if (!authenticated && call.proc !== PROC.authList && call.proc !== PROC.authPolkit) {
          await error("authentication required");
          continue;
        }
        if (call.proc === options.slow?.proc) {
          await new Promise((resolve) => setTimeout(resolve, options.slow!.ms));
        }
        const w = new XdrWriter();
        if (call.proc === PROC.authList) {
          w.u32(options.auth.length);
          for (const a of options.auth) w.u32(a);
        } else if (call.proc === PROC.authPolkit) {
          authenticated = true;
          w.u32(1);
        } else if (call.proc === PROC.open) {
          assert.equal(call.body.optionalString(), "qemu:///system");
        } else if (call.proc === PROC.getType) w.string("QEMU");
        else if (call.proc === PROC.getVersion) w.u32(0).u32(7_002_022);
        else if (call.proc === PROC.getLibVersion) w.u32(0).u32(9_000_000);
        await reply(0, w.bytes);
        if (call.proc === PROC.close) return;
      }
    } finally {
      conn.close();
    }
  })();
  return {
    calls,
    close: async () => {
      await served;
      listener.close();
    },
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "lv-daemon-" });
  try {
    await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("daemonVersion() asks type, hypervisor and daemon versions, after no authentication", async () => {
  await withDir(async (dir) => {
    const daemon = fakeDaemon(dir, { auth: [] });
    assert.equal(
      await daemonVersion("qemu:///system", { socketDir: dir }),
      "Running hypervisor: QEMU 7.2.22\nRunning against daemon: 9.0.0",
    );
    await daemon.close();
    assert.deepEqual(daemon.calls, [
      PROC.authList,
      PROC.open,
      PROC.getType,
      PROC.getVersion,
      PROC.getLibVersion,
      PROC.close,
    ]);
  });
});

Deno.test("daemonVersion() asks polkit first when the daemon offers it", async () => {
  await withDir(async (dir) => {
    const daemon = fakeDaemon(dir, { auth: [2] });
    assert.match(await daemonVersion("qemu+unix:///system", { socketDir: dir }) ?? "", /QEMU 7\.2\.22/);
    await daemon.close();
    assert.deepEqual(daemon.calls.slice(0, 3), [PROC.authList, PROC.authPolkit, PROC.open]);
  });
});

Deno.test("daemonVersion() leaves SASL and libvirt's errors to virsh (undefined)", async () => {
  await withDir(async (dir) => {
    const sasl = fakeDaemon(dir, { auth: [1] });
    assert.equal(await daemonVersion("qemu:///system", { socketDir: dir }), undefined);
    await sasl.close();
    assert.deepEqual(sasl.calls, [PROC.authList]);
    const failing = fakeDaemon(dir, { auth: [0], fail: PROC.open });
    assert.equal(await daemonVersion("qemu:///system", { socketDir: dir }), undefined);
    await failing.close();
  });
});

Deno.test("XDR: strings are padded to 4 bytes, hypers read whole, versions as libvirt writes them", () => {
  const bytes =
    new XdrWriter().string("QEMU!").optionalString(undefined).optionalString("a").u32(1).u32(2).bytes;
  assert.equal(bytes.length, 4 + 8 + 4 + 4 + 4 + 4 + 8);
  const r = new XdrReader(bytes);
  assert.equal(r.string(), "QEMU!");
  assert.equal(r.optionalString(), undefined);
  assert.equal(r.optionalString(), "a");
  assert.equal(r.u64(), 2 ** 32 + 2);
  assert.throws(() => r.u32(), RangeError);
  assert.equal(versionText(9_000_000), "9.0.0");
  assert.equal(versionText(7_002_022), "7.2.22");
});

Deno.test("daemonVersion() waits for a slow answer once the daemon has opened the connection", async () => {
  // A daemon that re-probes QEMU on each question (this machine's own, with /dev/kvm it cannot use) answers
  // getVersion seconds late: asking virsh after the time limit asked the same slow daemon again, the time twice.
  await withDir(async (dir) => {
    const slow = fakeDaemon(dir, { auth: [], slow: { proc: PROC.getVersion, ms: 400 } });
    assert.match(
      await daemonVersion("qemu:///system", { socketDir: dir, timeoutMs: 100 }) ?? "",
      /QEMU 7\.2\.22/,
    );
    await slow.close();
    // Not opened within the limit: virsh's to ask (and to say what is wrong).
    const unopened = fakeDaemon(dir, { auth: [], slow: { proc: PROC.open, ms: 400 } });
    assert.equal(await daemonVersion("qemu:///system", { socketDir: dir, timeoutMs: 100 }), undefined);
    await unopened.close();
  });
});
