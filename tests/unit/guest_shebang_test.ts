/** Shell provisioners honour the script's shebang (the file runs, its interpreter named on line one), /bin/sh otherwise. */
import assert from "node:assert/strict";
import type { ShellProvisioner } from "../../src/api/types.ts";
import { runProvisioners } from "../../src/guest/provisioners/provisioners.ts";
import { hasShebang } from "../../src/guest/provisioners/shell.ts";
import { runScript } from "./fake_guest_commands.ts";
import { guestFixture } from "./guest_fixture.ts";

const shell = (inline: string): ShellProvisioner => ({
  type: "shell",
  inline,
  args: ["one"],
  env: {},
  privileged: true,
  run: "once",
});

Deno.test("hasShebang() is true only for a first line starting with #!", () => {
  assert.equal(hasShebang("#!/bin/bash\necho hi\n"), true);
  assert.equal(hasShebang("echo hi\n#!/bin/bash\n"), false);
  assert.equal(hasShebang("# a comment\necho hi\n"), false);
});

Deno.test("a #!/bin/bash script runs as a file (bash runs it), a script without shebang under /bin/sh", async () => {
  const f = await guestFixture((d) =>
    d.spec.provision = [shell("#!/bin/bash\necho bash $1\n"), shell("echo sh $1\n")]
  );
  const ranBy: string[] = [];
  f.guest.installed.add("/bin/bash");
  f.guest.commandTable.set("/bin/bash", (guest, args, caller) => {
    ranBy.push(`/bin/bash ${args.join(" ")}`);
    return runScript(guest, args, caller);
  });
  try {
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const runs = f.guest.commands().filter((c) => c.includes("/tmp/lv-provision-") && !c.startsWith("rm"));
    assert.match(
      runs[0],
      /^flock \S+ sudo -n env \/tmp\/lv-provision-\S+ one$/,
      "the file itself, no /bin/sh",
    );
    assert.match(runs[1], /^flock \S+ sudo -n env \/bin\/sh \/tmp\/lv-provision-\S+ one$/);
    assert.equal(ranBy.length, 1);
    assert.match(ranBy[0], /^\/bin\/bash \/tmp\/lv-provision-\S+ one$/);
    assert.ok(f.progress.some((p) => p.endsWith("bash one\n")));
    assert.ok(f.progress.some((p) => p.endsWith("sh one\n")));
  } finally {
    await f.close();
  }
});

Deno.test("a script whose interpreter the guest lacks fails with the guest's message, as Vagrant's would", async () => {
  const f = await guestFixture((d) => d.spec.provision = [shell("#!/usr/bin/python3\nprint('hi')\n")]);
  try {
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(failed?.reason, "ProvisionFailed");
    assert.match(
      failed!.message,
      /exited with code 127; last output:\nenv: '\/tmp\/lv-provision-\S+': No such file or directory/,
    );
  } finally {
    await f.close();
  }
});
