/**
 * lv cp's copying (guest/copy_files.ts) on a fake far side that keeps its files in a directory of this host
 * and fails as SFTP does (a missing parent, a file where a directory is wanted), and which side is the guest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CopyError, download, type RemoteFiles, upload } from "../../src/guest/copy_files.ts";
import { copyDirection } from "../../src/cli/cp.ts";
import { UsageError } from "../../src/cli/errors.ts";

/** The guest's "/" is `root` on this host. */
function dirFiles(root: string): RemoteFiles {
  const at = (p: string) => join(root, p);
  return {
    stat(path) {
      try {
        const s = Deno.statSync(at(path));
        return Promise.resolve({ isDirectory: s.isDirectory, mode: s.mode! & 0o7777 });
      } catch {
        return Promise.resolve(undefined);
      }
    },
    mkdir(path, mode) {
      try {
        if (Deno.statSync(at(path)).isDirectory) return Promise.resolve();
      } catch { /* new */ }
      Deno.mkdirSync(at(path), { mode }); // no parents, as SFTP mkdir
      return Promise.resolve();
    },
    readdir: (path) =>
      Promise.resolve([...Deno.readDirSync(at(path))].map((e) => ({
        name: e.name,
        isDirectory: e.isDirectory,
        mode: Deno.statSync(join(at(path), e.name)).mode! & 0o7777,
      }))),
    put(local, remote, mode) {
      Deno.writeFileSync(at(remote), Deno.readFileSync(local), { mode });
      Deno.chmodSync(at(remote), mode);
      return Promise.resolve();
    },
    get(remote, local, mode) {
      Deno.writeFileSync(local, Deno.readFileSync(at(remote)), { mode });
      Deno.chmodSync(local, mode);
      return Promise.resolve();
    },
  };
}

function tree(dir: string, base = dir): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) => {
    const p = join(dir, e.name);
    const rel = p.slice(base.length + 1);
    return e.isDirectory ? [`${rel}/`, ...tree(p, base)] : [`${rel}=${Deno.readTextFileSync(p)}`];
  }).sort();
}

async function withSides(fn: (host: string, guest: string, files: RemoteFiles) => Promise<void>) {
  const host = Deno.makeTempDirSync(), guest = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(guest, "tmp"));
    await fn(host, guest, dirFiles(guest));
  } finally {
    Deno.removeSync(host, { recursive: true });
    Deno.removeSync(guest, { recursive: true });
  }
}

Deno.test("upload() copies a file to a path or into a directory, keeping its mode", async () => {
  await withSides(async (host, guest, files) => {
    Deno.writeTextFileSync(join(host, "x"), "hello");
    Deno.chmodSync(join(host, "x"), 0o750);
    await upload(files, join(host, "x"), "/tmp/y");
    await upload(files, join(host, "x"), "/tmp");
    assert.deepEqual(tree(guest), ["tmp/", "tmp/x=hello", "tmp/y=hello"]);
    assert.equal(Deno.statSync(join(guest, "tmp/y")).mode! & 0o777, 0o750);
  });
});

Deno.test("upload() and download() copy directories with recursive, and refuse them without", async () => {
  await withSides(async (host, guest, files) => {
    Deno.mkdirSync(join(host, "app/sub"), { recursive: true });
    Deno.writeTextFileSync(join(host, "app/a"), "A");
    Deno.writeTextFileSync(join(host, "app/sub/b"), "B");
    await assert.rejects(upload(files, join(host, "app"), "/tmp"), CopyError, "is a directory (use -r)");
    await upload(files, join(host, "app"), "/tmp", { recursive: true }); // into the existing directory
    await upload(files, join(host, "app"), "/tmp/copy", { recursive: true }); // as a new path
    assert.deepEqual(tree(guest), [
      "tmp/",
      "tmp/app/",
      "tmp/app/a=A",
      "tmp/app/sub/",
      "tmp/app/sub/b=B",
      "tmp/copy/",
      "tmp/copy/a=A",
      "tmp/copy/sub/",
      "tmp/copy/sub/b=B",
    ]);
    Deno.mkdirSync(join(host, "back"));
    await assert.rejects(
      download(files, "/tmp/app", join(host, "back")),
      CopyError,
      "is a directory (use -r)",
    );
    await download(files, "/tmp/app", join(host, "back"), { recursive: true });
    assert.deepEqual(tree(join(host, "back")), ["app/", "app/a=A", "app/sub/", "app/sub/b=B"]);
  });
});

Deno.test("download() copies a file to a path or into a directory; a missing source is named", async () => {
  await withSides(async (host, guest, files) => {
    Deno.writeTextFileSync(join(guest, "tmp/hostname"), "web\n");
    await download(files, "/tmp/hostname", host);
    await download(files, "/tmp/hostname", join(host, "h2"));
    assert.deepEqual(tree(host), ["h2=web\n", "hostname=web\n"]);
    await assert.rejects(
      download(files, "/tmp/nope", host),
      new CopyError("/tmp/nope: no such file or directory in the guest"),
    );
    await assert.rejects(
      upload(files, join(host, "nope"), "/tmp"),
      new CopyError(`${join(host, "nope")}: no such file or directory`),
    );
  });
});

Deno.test("copyDirection() finds the guest side (NAME:PATH); local paths with a colon stay local", () => {
  assert.deepEqual(copyDirection("./x", "web:/tmp/x"), {
    to: "guest",
    domain: "web",
    guestPath: "/tmp/x",
    hostPath: "./x",
  });
  assert.deepEqual(copyDirection("web:/etc/hostname", "."), {
    to: "host",
    domain: "web",
    guestPath: "/etc/hostname",
    hostPath: ".",
  });
  assert.deepEqual(copyDirection("./a:b", "db:"), {
    to: "guest",
    domain: "db",
    guestPath: ".",
    hostPath: "./a:b",
  });
  assert.throws(() => copyDirection("./x", "./y"), UsageError);
  assert.throws(() => copyDirection("web:/a", "db:/b"), UsageError);
});
