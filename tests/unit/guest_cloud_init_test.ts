/** Waiting for cloud-init in the guest (spec.cloudInit) on the fake guest: done, running, failed, hanging, missing. */
import assert from "node:assert/strict";
import {
  CLOUD_INIT_LOG,
  CLOUD_INIT_RESULT,
  CLOUD_INIT_WAIT_SECONDS,
} from "../../src/guest/cloud_init/cloud_init_report.ts";
import type { GuestSession } from "../../src/guest/session.ts";
import { CLOUD_INIT_TIMEOUT_MS, waitForCloudInit } from "../../src/guest/steps/cloud_init_wait.ts";
import { FakeGuest } from "./fake_guest.ts";
import { loginTo } from "./fake_guest_login.ts";

type CloudInitState = "running" | "done" | "error";

/** A fake guest with cloud-init in `state` (`timeout` gives 124 while it runs, as the real wait does). */
async function cloudGuest(
  state: CloudInitState | "absent",
): Promise<{ guest: FakeGuest; session: GuestSession }> {
  const guest = new FakeGuest();
  guest.installed.add("timeout");
  guest.commandTable.set("timeout", (g, args, caller, stdin) => {
    if (args[1] === "cloud-init" && state === "running") return { code: 124, stdout: "", stderr: "" };
    return g.exec(args.slice(1), caller, stdin);
  });
  if (state !== "absent") {
    guest.installed.add("cloud-init");
    guest.commandTable.set("cloud-init", (_g, _args, caller) => {
      if (!caller.root) return { code: 1, stdout: "", stderr: "Permission denied\n" };
      return state === "error"
        ? { code: 1, stdout: "status: error\n", stderr: "" }
        : { code: 0, stdout: "status: done\n", stderr: "" };
    });
  }
  guest.files.set(CLOUD_INIT_LOG, {
    content: "2026-12-01 10:00:00,000 - util.py[DEBUG]: Running module write_files\n" +
      "2026-12-01 10:00:01,000 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user\n",
    mode: 0o640,
    owner: "root",
  });
  if (state === "error") {
    guest.files.set(CLOUD_INIT_RESULT, {
      content: '{"v1": {"errors": ["(\'scripts_user\', RuntimeError(\'runparts: 1 failures\'))"]}}',
      mode: 0o644,
      owner: "root",
    });
  }
  return { guest, session: await loginTo(guest) };
}

const now = new Date("2026-12-01T10:05:00Z");
const since = "2026-12-01T10:00:00.000Z";

Deno.test("waitForCloudInit: done is {}, asked as root with a bounded wait", async () => {
  const { guest, session } = await cloudGuest("done");
  assert.deepEqual(await waitForCloudInit(session, { since, now }), {});
  assert.deepEqual(guest.commands(), [`sudo -n timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait`]);
});

Deno.test("waitForCloudInit: still running is a wait naming cloud-init", async () => {
  const { session } = await cloudGuest("running");
  assert.deepEqual(await waitForCloudInit(session, { since, now }), {
    waiting: "cloud-init is still running in the guest",
  });
});

Deno.test("waitForCloudInit: failed is CloudInitFailed with its recorded errors and log lines", async () => {
  const { session } = await cloudGuest("error");
  assert.deepEqual(await waitForCloudInit(session, { since, now }), {
    failure: {
      reason: "CloudInitFailed",
      message: "cloud-init failed in the guest:\n('scripts_user', RuntimeError('runparts: 1 failures'))\n" +
        "2026-12-01 10:00:01,000 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user",
    },
  });
});

Deno.test("waitForCloudInit: running past the limit is CloudInitTimeout with the time waited and log lines", async () => {
  const { session } = await cloudGuest("running");
  const late = new Date(Date.parse(since) + CLOUD_INIT_TIMEOUT_MS + 60_000);
  const { failure } = await waitForCloudInit(session, { since, now: late });
  assert.equal(failure?.reason, "CloudInitTimeout");
  assert.equal(
    failure?.message,
    "cloud-init has not finished after 21 min; last log lines:\n" +
      "2026-12-01 10:00:01,000 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user",
  );
});

Deno.test("waitForCloudInit: a guest without cloud-init is CloudInitMissing", async () => {
  const { session } = await cloudGuest("absent");
  assert.equal((await waitForCloudInit(session, { since, now })).failure?.reason, "CloudInitMissing");
});
