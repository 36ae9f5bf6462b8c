/** resolveBoxSource(): local images, Vagrant .box archives (tar, tar.gz), http URLs on loopback, checksums. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { BoxSourceError, resolveBoxSource, sha256File } from "../../src/box/box_source.ts";
import { ChecksumMismatchError } from "../../src/box/download.ts";
import { TINY_IMG } from "./harness.ts";

async function sh(cmd: string, args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A Vagrant libvirt box made of tiny.img, optionally compressed, with the metadata given. */
async function makeBox(
  dir: string,
  options: { gzip?: boolean; compress?: "bzip2" | "xz"; raw?: boolean; metadata?: object; key?: boolean } =
    {},
): Promise<string> {
  const src = await Deno.makeTempDir({ dir });
  if (options.raw) await Deno.copyFile(TINY_IMG, join(src, "box.img"));
  else await sh("qemu-img", ["convert", "-O", "qcow2", TINY_IMG, join(src, "box.img")]);
  await Deno.writeTextFile(
    join(src, "metadata.json"),
    JSON.stringify(options.metadata ?? { provider: "libvirt", format: "qcow2", virtual_size: 1 }),
  );
  await Deno.writeTextFile(join(src, "Vagrantfile"), "Vagrant.configure('2') {}\n");
  const files = ["box.img", "metadata.json", "Vagrantfile"];
  if (options.key) {
    await Deno.writeTextFile(join(src, "vagrant_key"), "not a real key\n");
    files.push("vagrant_key");
  }
  const box = join(dir, options.gzip ? "test.box.gz" : "test.box");
  const mode = options.gzip
    ? "-czf"
    : options.compress === "bzip2"
    ? "-cjf"
    : options.compress === "xz"
    ? "-cJf"
    : "-cf";
  await sh("tar", [mode, box, ...files], src);
  return box;
}

Deno.test("resolveBoxSource() handles every kind of source", async (t) => {
  const dir = await Deno.makeTempDir();
  const cacheDir = join(dir, "cache");
  try {
    await t.step("a raw image as it is", async () => {
      const image = await resolveBoxSource(TINY_IMG, undefined, { cacheDir });
      assert.deepEqual(
        { path: image.path, format: image.format, virtualSize: image.virtualSize },
        { path: TINY_IMG, format: "raw", virtualSize: 1 << 20 },
      );
    });

    for (const gzip of [false, true]) {
      await t.step(
        `a Vagrant box, ${gzip ? "tar.gz" : "tar"}, unpacked once into the cache, with its key`,
        async () => {
          const box = await makeBox(dir, { gzip, key: true });
          const a = await resolveBoxSource(box, undefined, { cacheDir });
          assert.equal(a.format, "qcow2");
          assert.equal(
            a.virtualSize,
            2 ** 30,
            "metadata.json virtual_size: 1 (GB) is more than the image's 1 MiB",
          );
          assert.ok(a.path.startsWith(join(cacheDir, "boxes")));
          assert.equal((await Deno.stat(a.privateKey!)).mode! & 0o777, 0o600);
          const b = await resolveBoxSource(box, `sha256:${await sha256File(box)}`, { cacheDir });
          assert.equal(b.path, a.path);
        },
      );
    }

    await t.step("a checksum that does not match is refused", async () => {
      await assert.rejects(
        resolveBoxSource(TINY_IMG, "0".repeat(64), { cacheDir }),
        (e: Error) =>
          e instanceof ChecksumMismatchError && e.reason === "ChecksumMismatch" &&
          /checksum mismatch.*expected sha256 0{64}, got [0-9a-f]{64}/.test(e.message),
      );
    });

    await t.step("a box for another provider is refused", async () => {
      const box = await makeBox(await Deno.makeTempDir({ dir }), { metadata: { provider: "virtualbox" } });
      await assert.rejects(
        resolveBoxSource(box, undefined, { cacheDir }),
        /is a box for provider "virtualbox", not libvirt/,
      );
    });

    await t.step("a box whose metadata points outside it is refused", async () => {
      const box = await makeBox(await Deno.makeTempDir({ dir }), {
        metadata: { provider: "libvirt", disks: [{ path: "../../etc/passwd" }] },
      });
      await assert.rejects(resolveBoxSource(box, undefined, { cacheDir }), /outside the box/);
    });

    await t.step("an http URL on loopback: downloaded once, checksum verified", async () => {
      const box = await makeBox(await Deno.makeTempDir({ dir }), { gzip: true });
      const bytes = await Deno.readFile(box);
      let requests = 0;
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
        requests++;
        return new Response(bytes, { headers: { "content-length": String(bytes.length) } });
      });
      try {
        const url = `http://127.0.0.1:${server.addr.port}/test.box`;
        const digest = await sha256File(box);
        const a = await resolveBoxSource(url, digest, { cacheDir });
        const b = await resolveBoxSource(url, digest, { cacheDir });
        assert.equal(a.format, "qcow2");
        assert.equal(b.path, a.path);
        assert.equal(requests, 1);
        await assert.rejects(
          resolveBoxSource(`http://127.0.0.1:${server.addr.port}/other.box`, "1".repeat(64), { cacheDir }),
          /checksum mismatch/,
        );
      } finally {
        await server.shutdown();
      }
    });

    await t.step("an interrupted download is retryable (not a BoxSourceError) and resumes", async () => {
      const box = await makeBox(await Deno.makeTempDir({ dir }));
      const bytes = await Deno.readFile(box);
      const ranges: (string | null)[] = [];
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
        ranges.push(req.headers.get("range"));
        const start = Number(req.headers.get("range")?.match(/\d+/)?.[0] ?? 0);
        const headers = {
          "content-length": String(bytes.length - start),
          ...(start ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
        };
        if (start) return new Response(bytes.slice(start), { status: 206, headers });
        const body = new ReadableStream<Uint8Array>({
          start: (c) => c.enqueue(bytes.slice(0, 4096)),
          pull: (c) => c.error(new Error("cut")),
        });
        return new Response(body, { headers });
      });
      try {
        const url = `http://127.0.0.1:${server.addr.port}/cut.box`;
        const digest = await sha256File(box);
        await assert.rejects(
          resolveBoxSource(url, digest, { cacheDir }),
          (e: Error) => !(e instanceof BoxSourceError) && /interrupted/.test(e.message),
        );
        const image = await resolveBoxSource(url, digest, { cacheDir });
        assert.equal(image.sha256, digest);
        assert.deepEqual(ranges, [null, "bytes=4096-"]);
      } finally {
        await server.shutdown();
      }
    });

    for (const compress of ["bzip2", "xz"] as const) {
      await t.step(`a Vagrant box, tar compressed with ${compress}`, async () => {
        const box = await makeBox(await Deno.makeTempDir({ dir }), { compress });
        const image = await resolveBoxSource(box, undefined, { cacheDir });
        assert.equal(image.format, "qcow2");
        assert.ok(image.path.startsWith(join(cacheDir, "boxes")));
      });
    }

    await t.step(
      "metadata format: raw is read as raw; virtual_size below the image's does not shrink it",
      async () => {
        const box = await makeBox(await Deno.makeTempDir({ dir }), {
          raw: true,
          metadata: { provider: "libvirt", format: "raw", virtual_size: 0.0001 },
        });
        const image = await resolveBoxSource(box, undefined, { cacheDir });
        assert.deepEqual([image.format, image.virtualSize], ["raw", 1 << 20]);
      },
    );

    await t.step("an unpacked box directory (as Vagrant keeps it under $VAGRANT_HOME/boxes)", async () => {
      const box = await makeBox(await Deno.makeTempDir({ dir }));
      const unpacked = await Deno.makeTempDir({ dir });
      await sh("tar", ["-xf", box, "-C", unpacked]);
      const image = await resolveBoxSource(unpacked, undefined, { cacheDir });
      assert.equal(image.path, join(unpacked, "box.img"));
      assert.equal(image.format, "qcow2");
      assert.equal(image.sha256, undefined);
    });

    await t.step("a file that does not exist", async () => {
      await assert.rejects(
        resolveBoxSource(join(dir, "nope.box"), undefined, { cacheDir }),
        /cannot be read/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
