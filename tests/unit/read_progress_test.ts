/** watchChildRead(): the read offset of a child process in a file, from /proc (how vol-upload shows progress). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { watchChildRead } from "../../src/libvirt/read_progress.ts";

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("watchChildRead() reports how far a child has read a file, found by its argv", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-read-" });
  try {
    const file = join(dir, "image.img");
    await Deno.writeFile(file, new Uint8Array(1 << 20));
    const link = join(dir, "link.img");
    await Deno.symlink(file, link);
    // A child that looks like `virsh vol-upload`: opens the file, reads 40960 bytes of it on each line of
    // stdin (through a dup of the same descriptor, so the shared offset moves), says "read" each time.
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'exec 3<"$2"; while read _; do dd bs=4096 count=10 <&3 >/dev/null 2>&1; echo read; done',
        "fake-virsh",
        "vol-upload",
        file,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const step = async () => {
      await writer.write(new TextEncoder().encode("\n"));
      assert.match((await lines.read()).value ?? "", /read/);
    };
    const seen: number[] = [];
    // Another child that must not be mistaken for it (same file, other argv).
    const other = new Deno.Command("sh", {
      args: ["-c", 'exec 3<"$1"; read _', "other", file],
      stdin: "piped",
    })
      .spawn();
    const watch = watchChildRead((argv) => argv.includes("vol-upload"), link, (n) => seen.push(n), {
      pollMs: 10,
    });
    try {
      await step();
      await until(() => seen.at(-1) === 40960).catch((e) => {
        throw new Error(`${e.message}: seen ${seen} pid ${watch.pid} child ${child.pid}`);
      });
      assert.equal(watch.pid, child.pid);
      await step();
      await until(() => seen.at(-1) === 81920);
      assert.deepEqual(seen.filter((n) => n !== 0), [40960, 81920], "one report per change");
    } finally {
      await watch.stop();
      await writer.close();
      await lines.cancel();
      await child.status;
      await other.stdin.close();
      await other.status;
    }
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, after, "no report after stop()");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchChildRead() follows the file when the descriptor it watched is pointed elsewhere", async () => {
  // dash, for one, points its own stdin at a file while it starts a command with `<&3`, then points it
  // back: the descriptor found first must be checked again at every poll.
  const dir = await Deno.makeTempDir({ prefix: "lv-read-" });
  try {
    const file = join(dir, "image.img");
    await Deno.writeFile(file, new Uint8Array(1 << 20));
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        'exec 5<&0 4<"$2" 0<&4; echo opened; read -u 5 _; exec 0</dev/null; ' +
        "dd bs=4096 count=10 <&4 >/dev/null 2>&1; echo read; read -u 5 _ || true",
        "fake-virsh",
        "vol-upload",
        file,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await lines.read()).value ?? "", /opened/);
    const seen: number[] = [];
    const watch = watchChildRead((argv) => argv.includes("vol-upload"), file, (n) => seen.push(n), {
      pollMs: 10,
    });
    try {
      await until(() => seen.length > 0); // found (its stdin, the lowest descriptor on the file)
      await writer.write(new TextEncoder().encode("\n"));
      assert.match((await lines.read()).value ?? "", /read/);
      await until(() => seen.at(-1) === 40960);
    } finally {
      await watch.stop();
      await writer.close();
      await lines.cancel();
      await child.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchChildRead() reports nothing when no child matches, and stops promptly", async () => {
  const seen: number[] = [];
  const watch = watchChildRead(() => false, "/etc/hostname", (n) => seen.push(n), { pollMs: 60_000 });
  const started = Date.now();
  await watch.stop();
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(seen, []);
  assert.equal(watch.pid, undefined);
});
