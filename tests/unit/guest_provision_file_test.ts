/** The file provisioner on the fake guest (a directory, a file, an unwritable destination) and its validation. */
import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain, FileProvisioner } from "../../src/api/types.ts";
import { runProvisioners } from "../../src/guest/provisioners/provisioners.ts";
import { absolutize } from "../../src/manifest/absolutize.ts";
import { hostPathProblems } from "../../src/manifest/host_paths.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { guestFixture, provisionManifest } from "./guest_fixture.ts";

const file = (p: Partial<FileProvisioner>): FileProvisioner => ({
  type: "file",
  source: "",
  destination: "",
  run: "once",
  ...p,
});

Deno.test("file provisioner copies a directory's contents into destination as the SSH user, deleting nothing", async () => {
  const src = await Deno.makeTempDir();
  await Deno.mkdir(`${src}/conf.d`);
  await Deno.writeTextFile(`${src}/app.ini`, "[app]\n");
  await Deno.writeTextFile(`${src}/conf.d/x.conf`, "x=1\n");
  const f = await guestFixture((d) => d.spec.provision = [file({ source: src, destination: "/tmp/app" })]);
  try {
    f.guest.dirs.add("/tmp/app");
    f.guest.files.set("/tmp/app/keep", { content: "mine\n", mode: 0o644, owner: "vagrant" });
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.equal(f.guest.read("/tmp/app/app.ini"), "[app]\n");
    assert.equal(f.guest.read("/tmp/app/conf.d/x.conf"), "x=1\n");
    assert.equal(f.guest.read("/tmp/app/keep"), "mine\n", "nothing deleted");
    assert.equal(f.guest.files.get("/tmp/app/app.ini")!.owner, "vagrant");
    const argv = f.guest.hostLog.at(-1)!;
    assert.equal(argv[0], "rsync");
    assert.ok(!argv.includes("--delete") && !argv.some((a) => a.startsWith("--rsync-path")), argv.join(" "));
    assert.deepEqual(argv.slice(-2), [`${src}/`, "vagrant@10.123.0.50:/tmp/app"]);
    assert.match(argv[argv.indexOf("-e") + 1], /^ssh .*UserKnownHostsFile=/);
    assert.deepEqual(f.events, [
      `Provisioning: running provision[0] (file: ${src} to /tmp/app)`,
      "Provisioned: provision[0] finished",
    ]);
  } finally {
    await f.close();
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("file provisioner copies one file, making its directory", async () => {
  const src = await Deno.makeTempFile();
  await Deno.writeTextFile(src, "hello\n");
  const f = await guestFixture((d) =>
    d.spec.provision = [file({ source: src, destination: "/home/vagrant/etc/greeting", name: "greet" })]
  );
  try {
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.equal(f.guest.read("/home/vagrant/etc/greeting"), "hello\n");
    assert.ok(f.guest.commands().includes("mkdir -p /home/vagrant/etc"));
    assert.deepEqual(f.guest.hostLog.at(-1)!.slice(-2), [
      src,
      "vagrant@10.123.0.50:/home/vagrant/etc/greeting",
    ]);
  } finally {
    await f.close();
    await Deno.remove(src);
  }
});

Deno.test("file provisioner to a destination the SSH user cannot write fails: ProvisionFailed with the guest's message", async () => {
  const src = await Deno.makeTempFile();
  const f = await guestFixture((d) => d.spec.provision = [file({ source: src, destination: "/opt/app/x" })]);
  try {
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(failed?.reason, "ProvisionFailed");
    assert.equal(
      failed?.message,
      "provision[0] exited with code 1; last output:\nmkdir: cannot create directory '/opt/app': Permission denied",
    );
    assert.equal(f.guest.hostLog.length, 0, "rsync not run");
  } finally {
    await f.close();
    await Deno.remove(src);
  }
});

Deno.test("file provisioner whose rsync fails reports rsync's exit code and message", async () => {
  const src = await Deno.makeTempFile();
  const f = await guestFixture((d) => d.spec.provision = [file({ source: src, destination: "/tmp/x" })]);
  try {
    f.guest.failNext("rsync", { code: 12, stderr: "rsync: connection unexpectedly closed\n" });
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(
      failed?.message,
      "provision[0] exited with code 12; last output:\nrsync: connection unexpectedly closed",
    );
  } finally {
    await f.close();
    await Deno.remove(src);
  }
});

const manifest = (source: string) =>
  provisionManifest(`    - type: file
      source: ${source}
      destination: /tmp/x
`);

Deno.test("a file provisioner's source is relative to the manifest and must exist: file:line otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/there.txt`, "x");
    const ok = parseManifests(manifest("there.txt"), `${dir}/a.yaml`);
    assert.deepEqual(ok.problems, []);
    const dom = ok.resources[0] as Domain;
    absolutize(dom, dir);
    assert.deepEqual(dom.spec.provision[0], {
      type: "file",
      source: `${dir}/there.txt`,
      destination: "/tmp/x",
      run: "once",
    }, "no shell fields on a file provisioner");
    assert.deepEqual(await hostPathProblems(dom), []);

    const bad = parseManifests(manifest("missing.txt"), `${dir}/b.yaml`);
    absolutize(bad.resources[0], dir);
    assert.deepEqual((await hostPathProblems(bad.resources[0])).map(formatProblem), [
      `${dir}/b.yaml:8:15: spec.provision[0].source: does not exist on this host; got "${dir}/missing.txt"`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
