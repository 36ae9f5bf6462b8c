/**
 * Rootless: lv run by an unprivileged user against that user's own libvirt (qemu:///session), no root
 * anywhere: libvirt starts the user's session daemon, lv creates the user's pool under
 * ~/.local/share/lv/images, uploads a box there, boots a domain without a guest OS whose QEMU runs as the
 * user, shows its serial log, and deletes everything; `lv doctor` says which mode applies. The user's
 * connection comes from LV_CONNECT, as a user would set it once.
 */
import assert from "node:assert/strict";
import { requireLab, ROOT, run, waitFor } from "./helpers.ts";
import { rootlessUser, SESSION } from "./rootless_user.ts";

const MANIFEST = `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: tiny
spec:
  source: ${ROOT}examples/tiny.img
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: mine
spec:
  box: tiny
  driver: qemu
  communicator: none # no guest OS; no management interface either
  memory: 128
`;

Deno.test("qemu:///session as an unprivileged user: pool, box, domain and logs, no root", async (t) => {
  requireLab();
  const user = await rootlessUser();
  const lv = user.lv;
  const file = `${lv.home}/mine.yaml`;
  try {
    await Deno.writeTextFile(file, MANIFEST);
    await Deno.chown(file, user.uid, user.uid);

    await t.step("lv doctor names the rootless mode and the user's pool", async () => {
      const r = await lv.run(["doctor"]);
      assert.match(r.stdout, /mode\s+\S+\s+qemu:\/\/\/session: rootless session/, r.stderr);
      // Debian installs the helper without its setuid bit: the fix is named.
      assert.match(
        r.stdout,
        /bridge helper\s+warn\s+\/usr\/lib\/qemu\/qemu-bridge-helper is not setuid root/,
      );
      assert.match(r.stdout, /bridge helper: sudo chmod u\+s \/usr\/lib\/qemu\/qemu-bridge-helper/);
      assert.match(
        r.stdout,
        new RegExp(
          `pool default\\s+warn\\s+missing; lv creates it as a dir pool at ${user.home}/\\.local/share/lv/images`,
        ),
      );
    });

    await t.step(
      "apply: the user's pool made under ~/.local/share/lv/images, the domain runs as the user",
      async () => {
        const r = await lv.ok(["apply", "-f", file, "--timeout=120s"]);
        assert.match(r.stdout, /box\/tiny created\ndomain\/mine created\n/);
        const images = `${user.home}/.local/share/lv/images`;
        const st = await Deno.stat(images);
        assert.equal(st.uid, user.uid, "the pool's directory is the user's");
        const names = [...Deno.readDirSync(images)].map((e) => e.name).sort();
        assert.deepEqual(names, ["box-tiny", "mine"]);
        for (const n of names) {
          assert.equal((await Deno.stat(`${images}/${n}`)).uid, user.uid, `${n} is the user's`);
        }
        const qemu = (await run("ps", ["-eo", "uid=,args="])).stdout.split("\n")
          .filter((l) => /qemu-system/.test(l) && l.includes("guest=mine,"));
        assert.equal(qemu.length, 1, qemu.join("\n"));
        assert.equal(Number(qemu[0].trim().split(/\s+/)[0]), user.uid, "QEMU runs as the user");
        const listed = await user.run("virsh", ["-q", "-c", SESSION, "list", "--name"]);
        assert.match(listed.stdout, /^mine$/m, "in the user's own libvirt");
        const system = await run("virsh", ["-q", "-c", "qemu:///system", "list", "--all", "--name"]);
        assert.doesNotMatch(system.stdout, /^mine$/m, "not in the system's");
      },
    );

    await t.step("lv get and lv logs through the user's session", async () => {
      assert.match((await lv.ok(["get", "domains"])).stdout, /mine\s+Running/);
      await waitFor(
        async () => /SeaBIOS/.test((await lv.run(["logs", "mine"])).stdout),
        "lv logs mine shows SeaBIOS's banner",
        90_000,
      );
    });

    await t.step("delete leaves the user's pool empty and the domain gone", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=60s"]);
      const images = `${user.home}/.local/share/lv/images`;
      assert.deepEqual([...Deno.readDirSync(images)].map((e) => e.name), []);
      const listed = await user.run("virsh", ["-q", "-c", SESSION, "list", "--all", "--name"]);
      assert.equal(listed.stdout.trim(), "");
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=60s"]);
    await user.stop();
  }
});
