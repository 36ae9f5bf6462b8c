/** Provisioners on the fake guest: order, run: once|always, the guest-side flock, env and args, failures. */
import assert from "node:assert/strict";
import { runProvisioners } from "../../src/guest/provisioners/provisioners.ts";
import { PROVISION_LOCK } from "../../src/guest/provisioners/shell.ts";
import { guestFixture, shell, withFixture } from "./guest_fixture.ts";

Deno.test("runProvisioners runs all in spec order, or only the run: always ones", async () => {
  const script = await Deno.makeTempFile({ suffix: ".sh" });
  await Deno.writeTextFile(script, "echo two >> /tmp/order\n");
  const f = await guestFixture((d) =>
    d.spec.provision = [
      shell({ inline: "echo one >> /tmp/order" }),
      shell({ path: script, privileged: false }),
      shell({ inline: "echo three >> /tmp/order", run: "always", name: "last" }),
    ]
  );
  try {
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.equal(f.guest.read("/tmp/order"), "one\ntwo\nthree\n");
    assert.deepEqual(f.events.filter((e) => e.startsWith("Provisioned")), [
      "Provisioned: provision[0] finished",
      "Provisioned: provision[1] finished",
      "Provisioned: last finished",
    ]);
    assert.equal(
      f.events[0],
      "Provisioning: running provision[0] (privileged shell: echo one >> /tmp/order)",
    );
    assert.equal(f.events[2], `Provisioning: running provision[1] (shell: ${script})`);
    assert.equal(await runProvisioners(f.ctx, false), undefined);
    assert.equal(f.guest.read("/tmp/order"), "one\ntwo\nthree\nthree\n", "only run: always again");
  } finally {
    await f.close();
    await Deno.remove(script);
  }
});

Deno.test("a provisioner runs under the guest-wide flock, privileged through sudo -n, its copy removed after", async () => {
  await withFixture((d) =>
    d.spec.provision = [
      shell({
        inline: "whoami\necho $GREETING $1 $2",
        env: { GREETING: "hello there" },
        args: ["one", "two"],
      }),
      shell({ inline: "whoami", privileged: false }),
    ], async (f) => {
    await runProvisioners(f.ctx, true);
    const runs = f.guest.commands().filter((c) => c.includes("/bin/sh"));
    assert.match(
      runs[0],
      new RegExp(
        `^flock ${PROVISION_LOCK} sudo -n env GREETING=hello there /bin/sh /tmp/lv-provision-\\S+ one two$`,
      ),
    );
    assert.match(runs[1], new RegExp(`^flock ${PROVISION_LOCK} env /bin/sh /tmp/lv-provision-\\S+$`));
    assert.equal(f.guest.commands().filter((c) => c === "flock --version").length, 1, "asked once a session");
    assert.deepEqual(f.progress, [
      "domain/web: provision[0]: root\nhello there one two\n",
      "domain/web: provision[1]: vagrant\n",
    ]);
    assert.deepEqual(
      [...f.guest.files.keys()].filter((p) => p.startsWith("/tmp/lv-provision-")),
      [],
      "copies removed",
    );
  });
});

Deno.test("a guest without flock runs the provisioner without the lock", async () => {
  await withFixture((d) => d.spec.provision = [shell({ inline: "echo hi" })], async (f) => {
    f.guest.installed.delete("flock");
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.match(f.guest.commands().find((c) => c.includes("/bin/sh"))!, /^sudo -n env \/bin\/sh /);
  });
});

Deno.test("a failing provisioner stops the run: ProvisionFailed with its exit code and last output", async () => {
  await withFixture((d) =>
    d.spec.provision = [
      shell({ inline: "echo fine" }),
      shell({ inline: "echo about to fail\nnosuchcommand\nexit 7" }),
      shell({ inline: "echo never >> /tmp/never" }),
    ], async (f) => {
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(failed?.reason, "ProvisionFailed");
    assert.match(
      failed!.message,
      /^provision\[1\] exited with code 7; last output:\nabout to fail\n\/tmp\/lv-provision-\S+: 2: nosuchcommand: not found$/,
    );
    assert.equal(f.guest.read("/tmp/never"), undefined, "the next one did not run");
    assert.ok(!f.events.includes("Provisioned: provision[1] finished"));
  });
});

Deno.test("a privileged provisioner on a guest whose sudo asks a password fails with sudo's message", async () => {
  await withFixture((d) => d.spec.provision = [shell({ inline: "echo hi" })], async (f) => {
    f.guest.users.get("vagrant")!.sudo = "password";
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(
      failed?.message,
      "provision[0] exited with code 1; last output:\nsudo: a password is required",
    );
  });
});

Deno.test("a provisioner that cannot be copied to the guest rejects naming it", async () => {
  await withFixture((d) => d.spec.provision = [shell({ inline: "echo hi", name: "setup" })], async (f) => {
    f.guest.dirs.delete("/tmp");
    await assert.rejects(
      runProvisioners(f.ctx, true),
      /^Error: cannot copy setup to the guest: cannot write \/tmp\//,
    );
  });
});
