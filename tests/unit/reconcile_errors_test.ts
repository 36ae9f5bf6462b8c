/**
 * Objects that vanish under a reconciler, and programming errors: a condition says what happened in lv's
 * words; a raw TypeError ("Cannot read properties of undefined") never reaches a condition.
 */
import assert from "node:assert/strict";
import type { Network, Volume } from "../../src/api/types.ts";
import { WaitingError } from "../../src/controller/context.ts";
import { main } from "../../src/cli/main.ts";
import { Manager } from "../../src/controller/manager.ts";
import { createAll, example, mustGet, newHarness, pass, passOk, ready } from "./harness.ts";

const NET = { kind: "Network" as const, namespace: "default", name: "basic-net" };
const RAW_TYPE_ERROR = /Cannot read properties|TypeError|undefined is not/;

Deno.test("networkReconciler: a network removed right after lv started it is waited for, not a TypeError", async () => {
  const h = await newHarness();
  try {
    await createAll(h, [example<Network>("Network", "basic-net")]);
    await passOk(h, "Network", "basic-net"); // the finalizer
    h.fake.beforeCall = (args) => {
      // Someone removes the network between lv's net-start and its look at the bridge libvirt gave it.
      if (
        args[0] === "net-dumpxml" && h.fake.callsOf("net-start").length > 0 &&
        h.fake.networks.has("basic-net")
      ) {
        h.fake.seed(["net-destroy", "basic-net"]);
        h.fake.seed(["net-undefine", "basic-net"]);
      }
    };
    const r = await pass(h, "Network", "basic-net");
    assert.ok(r.error instanceof WaitingError, String(r.error));
    assert.equal(r.error.reason, "NetworkVanished");
    assert.match(r.error.message, /network "basic-net" disappeared/);
    assert.doesNotMatch(r.error.message, RAW_TYPE_ERROR);
    h.fake.beforeCall = undefined;
    await passOk(h, "Network", "basic-net");
    assert.equal(ready(await mustGet<Network>(h, "Network", "basic-net"))?.status, "True", "defined again");
  } finally {
    await h.close();
  }
});

Deno.test("ensurePool: a pool removed right after lv defined it is waited for, not a TypeError", async () => {
  const h = await newHarness(); // no default pool: lv defines it
  try {
    await createAll(h, [example<Volume>("Volume", "web-data")]);
    await passOk(h, "Volume", "web-data"); // the finalizer
    h.fake.beforeCall = (args) => {
      if (args[0] === "pool-dumpxml" && h.fake.callsOf("pool-define").length > 0) {
        h.fake.pools.delete("default");
      }
    };
    const r = await pass(h, "Volume", "web-data");
    assert.ok(r.error instanceof WaitingError, String(r.error));
    assert.equal(r.error.reason, "PoolVanished");
    assert.match(r.error.message, /storage pool "default" disappeared/);
    assert.doesNotMatch(r.error.message, RAW_TYPE_ERROR);
  } finally {
    await h.close();
  }
});

Deno.test("Manager: a programming error in a reconciler is reported as lv's bug, never as a raw TypeError", async () => {
  const h = await newHarness();
  const debugged: string[] = [];
  try {
    await createAll(h, [example<Network>("Network", "basic-net")]);
    const broken = {
      kind: "Network" as const,
      reconcile: (): Promise<void> => {
        const gone = undefined as unknown as { xml: string };
        return Promise.resolve(void gone.xml.length);
      },
    };
    const manager = new Manager(h.ctx, [broken], {
      pollMs: 5,
      baseDelayMs: 20,
      debug: (line) => debugged.push(line),
    });
    await manager.start();
    const deadline = Date.now() + 5000;
    while (!ready(await h.store.get(NET))) {
      if (Date.now() > deadline) throw new Error("no Ready condition written");
      await new Promise((r) => setTimeout(r, 5));
    }
    await manager.stop();
    const cond = ready(await mustGet<Network>(h, "Network", "basic-net"))!;
    assert.equal(cond.status, "False");
    assert.equal(cond.reason, "InternalError");
    assert.match(cond.message!, /^lv failed unexpectedly while reconciling network\/basic-net: a bug in lv/);
    assert.doesNotMatch(cond.message!, RAW_TYPE_ERROR);
    const events = await h.store.events(NET);
    for (const e of events) assert.doesNotMatch(e.message, RAW_TYPE_ERROR);
    assert.ok(
      debugged.some((line) => /TypeError: Cannot read properties/.test(line) && /\n\s+at /.test(line)),
      "the stack goes to debugging output",
    );
  } finally {
    await h.close();
  }
});

Deno.test("lv: a programming error reaches the terminal as lv's bug, exit 1, never as a raw TypeError", async () => {
  let err = "";
  const code = await main(["--version"], {
    out: () => {
      const gone = undefined as unknown as { text: string };
      void gone.text.length;
    },
    err: (t) => void (err += t),
  });
  assert.equal(code, 1);
  const said = err.split("\n")[0] + "\n"; // with LV_DEBUG set, the stack follows
  assert.equal(
    said,
    "error: lv failed unexpectedly while running this command: a bug in lv (run with LV_DEBUG=1 to see where, and report it)\n",
  );
  assert.doesNotMatch(said, RAW_TYPE_ERROR);
});
