/**
 * volUpload on a local libvirt copies the file into the volume's file itself (volume_copy.ts) when libvirt
 * sees that file before and after; otherwise it streams with vol-upload as before. The fake pool lives in a
 * temp directory, and the test puts the volume's file there as libvirt's vol-create would.
 */
import assert from "node:assert/strict";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import type { RunOptions, VirshResult, VirshRunner } from "../../src/libvirt/virsh.ts";
import { FakeVirsh } from "./fake_virsh.ts";

const XML = (name: string) =>
  `<volume><name>${name}</name><capacity unit='bytes'>1048576</capacity><target><format type='raw'/></target></volume>`;

async function setUp(uri = "qemu:///system") {
  const dir = Deno.makeTempDirSync({ prefix: "lv-volcopy-" });
  const fake = new FakeVirsh({ uri });
  fake.addPool("p", `${dir}/pool`);
  Deno.mkdirSync(`${dir}/pool`);
  const image = `${dir}/image.raw`;
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
  Deno.writeFileSync(image, bytes);
  const libvirt = new Libvirt(fake);
  await libvirt.volCreate("p", XML("v"));
  return { dir, fake, libvirt, image, bytes, path: `${dir}/pool/v` };
}

const commands = (fake: FakeVirsh) => fake.log.map((c) => c[0]);

Deno.test("a local volume whose file libvirt and lv both see gets the bytes by copy, not vol-upload", async () => {
  const s = await setUp();
  try {
    Deno.writeFileSync(s.path, new Uint8Array(4096)); // the file vol-create made
    const reports: number[][] = [];
    await s.libvirt.volUpload("p", "v", s.image, { onProgress: (d, t) => reports.push([d, t]) });
    assert.deepEqual(Deno.readFileSync(s.path), s.bytes);
    assert.ok(!commands(s.fake).includes("vol-upload"), commands(s.fake).join(" "));
    assert.deepEqual(reports[0], [0, s.bytes.length]);
    assert.deepEqual(reports.at(-1), [s.bytes.length, s.bytes.length]);
  } finally {
    Deno.removeSync(s.dir, { recursive: true });
  }
});

Deno.test("no file at the volume's path here: streamed, and no file is created there", async () => {
  const s = await setUp();
  try {
    await s.libvirt.volUpload("p", "v", s.image);
    assert.ok(commands(s.fake).includes("vol-upload"));
    assert.throws(() => Deno.statSync(s.path), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(s.dir, { recursive: true });
  }
});

/** libvirt reporting another file's size than the one at that path here (another mount namespace). */
class OtherFile implements VirshRunner {
  constructor(readonly inner: FakeVirsh, readonly physical: number) {}
  get uri() {
    return this.inner.uri;
  }
  get calls() {
    return this.inner.calls;
  }
  async run(args: string[], options?: RunOptions): Promise<VirshResult> {
    const r = await this.inner.run(args, options);
    if (args[0] !== "vol-info") return r;
    return {
      ...r,
      stdout: r.stdout.replace(/^Physical:\s+\d+ bytes$/m, `Physical:       ${this.physical} bytes`),
    };
  }
}

Deno.test("libvirt's file is not the one here: the file here is left alone and the volume streamed", async () => {
  const s = await setUp();
  try {
    const mine = new Uint8Array(4096).fill(9);
    Deno.writeFileSync(s.path, mine);
    await new Libvirt(new OtherFile(s.fake, 196_616)).volUpload("p", "v", s.image);
    assert.deepEqual(Deno.readFileSync(s.path), mine, "a file libvirt does not see was written");
    assert.ok(commands(s.fake).includes("vol-upload"));
  } finally {
    Deno.removeSync(s.dir, { recursive: true });
  }
});

Deno.test("a copy libvirt does not see afterwards is streamed again (vol-upload rewrites it)", async () => {
  const s = await setUp();
  try {
    Deno.writeFileSync(s.path, new Uint8Array(4096));
    let infos = 0;
    const afterCopy: VirshRunner = {
      uri: s.fake.uri,
      calls: 0,
      run: async (args, options) => {
        const r = await s.fake.run(args, options);
        // The first look (before the copy) sees the file; the second reports the old size.
        if (args[0] === "vol-info" && ++infos === 2) {
          return { ...r, stdout: r.stdout.replace(/^Physical:\s+\d+ bytes$/m, "Physical: 4096 bytes") };
        }
        return r;
      },
    };
    await new Libvirt(afterCopy).volUpload("p", "v", s.image);
    assert.equal(infos, 2);
    assert.ok(commands(s.fake).includes("vol-upload"));
  } finally {
    Deno.removeSync(s.dir, { recursive: true });
  }
});

Deno.test("a remote libvirt, or stream: true, always goes through vol-upload", async () => {
  for (const [uri, options] of [["qemu+ssh://h/system", {}], ["qemu:///system", { stream: true }]] as const) {
    const s = await setUp(uri);
    try {
      Deno.writeFileSync(s.path, new Uint8Array(4096));
      await s.libvirt.volUpload("p", "v", s.image, options);
      assert.deepEqual(commands(s.fake).filter((c) => c.startsWith("vol-") && c !== "vol-create"), [
        "vol-upload",
      ]);
      assert.deepEqual(Deno.readFileSync(s.path), new Uint8Array(4096), `${uri}: the file was written by lv`);
    } finally {
      Deno.removeSync(s.dir, { recursive: true });
    }
  }
});
