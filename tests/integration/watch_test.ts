/**
 * Watching on the lab's libvirtd: `lv get domains -w` and `lv get events --for domain/NAME -w`, each a
 * process of its own, print what another lv process changes (a halt, an up: the controller's status writes
 * and events); `lv wait --for=jsonpath=...` returns when the phase it waits for is reached. Arrival is
 * waited for with a timeout; nothing asserts how fast.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { disklessDomain, Lv, requireLab, ROOT, virsh } from "./helpers.ts";
import { streaming } from "./streaming.ts";

const NAME = "watch-web";

const MANIFEST = disklessDomain(NAME);

/** `lv ARGS` as a streaming process with the test's lv home. */
function watchLv(lv: Lv, args: string[]) {
  return streaming([Deno.execPath(), "run", "-A", `${ROOT}mod.ts`, ...args], {
    env: { ...lv.env, LV_HOME: lv.home },
    cwd: ROOT,
  });
}

Deno.test("lv get -w, lv get events -w and lv wait --for=jsonpath follow another lv's changes", async (t) => {
  requireLab();
  const lv = new Lv();
  const file = join(lv.home, "web.yaml");
  Deno.writeTextFileSync(file, MANIFEST);
  try {
    await lv.ok(["apply", "-f", file, "--timeout=120s"]);

    await t.step("lv get domains -w prints the halt another lv process makes", async () => {
      const watch = watchLv(lv, [
        "get",
        "domains",
        "-w",
        "-o",
        "custom-columns=NAME:.metadata.name,STATE:.spec.state,PHASE:.status.phase",
      ]);
      try {
        await watch.until(new RegExp(`^NAME +STATE +PHASE\\n${NAME} +Running +Running\\n`));
        await lv.ok(["halt", NAME, "--timeout=60s"]);
        // The spec change, then the controller's status: each change a row (changes read in one batch
        // may show the object once, as it is by then).
        await watch.until(new RegExp(`\\n${NAME} +Stopped +Stopped\\n`));
        assert.equal((watch.stdout.match(/^NAME/gm) ?? []).length, 1, "one header");
      } finally {
        await watch.stop();
      }
    });

    await t.step("lv get events --for domain/NAME -w streams the event of an up", async () => {
      const watch = watchLv(lv, ["get", "events", "--for", `domain/${NAME}`, "-w"]);
      try {
        // What happened so far, newest last: the start, then the power-off of the halt.
        await watch.until(/PoweredOff +domain\/watch-web +domain "watch-web" powered off\n/);
        const before = watch.stdout;
        assert.match(before, new RegExp(`Started +domain/${NAME}[\\s\\S]*PoweredOff`));
        await lv.ok(["up", NAME, "--timeout=60s"]);
        await watch.until(
          /PoweredOff[^\n]*\n(?:[\s\S]*\n)?[^\n]*Started +domain\/watch-web +domain "watch-web" started\n/,
        );
        assert.ok(watch.stdout.startsWith(before), "what was printed stays; the new event follows");
        assert.equal((await virsh("domstate", NAME)).trim(), "running");
      } finally {
        await watch.stop();
      }
    });

    await t.step("lv wait --for=jsonpath returns once another lv's halt reaches the phase", async () => {
      const waiting = lv.run([
        "wait",
        "--for=jsonpath={.status.phase}=Stopped",
        `domain/${NAME}`,
        "--timeout=120s",
      ]);
      await lv.ok(["halt", NAME, "--timeout=60s"]);
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `domain/${NAME} condition met\n`);
      const never = await lv.run([
        "wait",
        "--for=jsonpath={.status.phase}=Paused",
        `domain/${NAME}`,
        "--timeout=1s",
      ]);
      assert.equal(never.code, 1);
      assert.match(never.stderr, /timed out/);
    });

    await lv.ok(["delete", "-f", file, "--timeout=60s"]);
  } finally {
    await virsh("destroy", NAME).catch(() => {});
    await virsh("undefine", NAME).catch(() => {});
    lv.cleanup();
  }
});
