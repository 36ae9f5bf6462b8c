/**
 * lv version asks the lab's libvirtd over its socket (libvirt's RPC protocol, src/libvirt/daemon_version.ts)
 * and says what `virsh version --daemon` says of the hypervisor and the daemon, running no virsh; a URI it
 * does not ask natively still answers, through virsh.
 */
import assert from "node:assert/strict";
import { daemonVersion } from "../../src/libvirt/daemon_version.ts";
import { Lv, requireLab, virsh } from "./helpers.ts";

/** virsh version --daemon's line starting with `label`. */
function line(text: string, label: string): string {
  const found = text.split("\n").find((l) => l.startsWith(label));
  assert.ok(found, `no "${label}" in:\n${text}`);
  return found.trim();
}

Deno.test("lv version asks the local daemon over its socket and agrees with virsh version --daemon", async () => {
  requireLab();
  const byVirsh = await virsh("version", "--daemon");
  const hypervisor = line(byVirsh, "Running hypervisor:");
  const daemon = line(byVirsh, "Running against daemon:");
  assert.equal(await daemonVersion("qemu:///system"), `${hypervisor}\n${daemon}`);
  assert.equal(await daemonVersion("qemu+unix:///system"), `${hypervisor}\n${daemon}`);

  // Deno's debug log names each file it reads: the answer needs neither lv's runtime nor its libvirt classes.
  const lv = new Lv(() => ({ DENO_LOG: "debug" }));
  try {
    const r = await lv.ok(["version"]);
    assert.match(r.stdout, /^lv \d+\.\d+\.\d+ \(deno /);
    assert.ok(r.stdout.includes(`libvirt qemu:///system: ${hypervisor}; ${daemon}\n`), r.stdout);
    assert.deepEqual(lv.virshCalls(), [], "no virsh ran");
    const read = [...r.stderr.matchAll(/fetch\S* - specifier: file:\/\/(\S+\.ts)$/gm)].map((m) => m[1]);
    assert.ok(
      read.some((f) => f.endsWith("/src/libvirt/daemon_version.ts")),
      "Deno's debug log names the files",
    );
    assert.deepEqual(
      read.filter((f) => /\/src\/(cli\/runtime|libvirt\/(libvirt|session_virsh))\.ts$/.test(f)),
      [],
    );

    // A socket named in the URI is virsh's to use: the same answer, through a virsh process.
    const uri = "qemu:///system?socket=/run/libvirt/libvirt-sock";
    const viaVirsh = await lv.ok(["version", "--connect", uri]);
    assert.ok(viaVirsh.stdout.includes(`; ${hypervisor}; ${daemon}\n`), viaVirsh.stdout);
    assert.deepEqual(lv.virshCalls(), [["version", "--daemon"]]);
  } finally {
    lv.cleanup();
  }
});

Deno.test("daemonVersion() gives undefined, for virsh to answer, where it cannot ask", async () => {
  requireLab();
  const empty = Deno.makeTempDirSync({ prefix: "lv-no-socket-" });
  try {
    assert.equal(await daemonVersion("qemu:///system", { socketDir: empty }), undefined, "no socket");
    assert.equal(await daemonVersion("qemu:///session"), undefined, "a session daemon (virsh starts it)");
    assert.equal(await daemonVersion("qemu+ssh://root@host/system"), undefined, "a remote daemon");
    // A socket where nobody answers in libvirt's protocol: undefined within the timeout, not a hang.
    const listener = Deno.listen({ transport: "unix", path: `${empty}/libvirt-sock` });
    const accepted = (async () => {
      const conn = await listener.accept();
      await conn.read(new Uint8Array(1024));
      return conn;
    })();
    assert.equal(await daemonVersion("qemu:///system", { socketDir: empty, timeoutMs: 300 }), undefined);
    (await accepted).close();
    listener.close();
  } finally {
    Deno.removeSync(empty, { recursive: true });
  }
});
