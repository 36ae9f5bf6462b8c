/**
 * One observation pass of lv's controllers over every object in $LV_HOME's store, in this process, with a
 * virsh process per command (lv today) or one virsh session (bench/session_virsh.ts, the proposal). Prints
 * {mode, ms, calls, reconciles, ready} as JSON; the objects are expected converged, so nothing is changed.
 *
 *   LV_HOME=DIR deno run -A bench/observe.ts process|session [workers]
 */
import { openRuntime } from "../src/cli/runtime.ts";
import { controllerContext, RECONCILERS } from "../src/cli/drive.ts";
import { Manager } from "../src/controller/manager.ts";
import { KINDS } from "../src/api/types.ts";
import { ProcessVirsh } from "../src/libvirt/virsh.ts";
import { SessionVirsh } from "./session_virsh.ts";

const URI = Deno.env.get("LV_CONNECT") ?? "qemu:///system";
const mode = Deno.args[0];
if (mode !== "process" && mode !== "session") throw new Error("usage: observe.ts process|session [workers]");
const virsh = mode === "session" ? new SessionVirsh(URI) : new ProcessVirsh(URI);
const rt = await openRuntime({ virsh, output: { out() {}, err() {} } });
let objects = 0;
for (const kind of KINDS) objects += (await rt.store.list(kind)).length;
const manager = new Manager(controllerContext(rt, { quiet: true }), RECONCILERS, {
  workers: Number(Deno.args[1] ?? 4),
});
const t0 = performance.now();
await manager.start();
while (manager.reconciles < objects) await new Promise((r) => setTimeout(r, 2));
const ms = performance.now() - t0;
await manager.stop();
let ready = 0;
for (const kind of KINDS) {
  for (const o of await rt.store.list(kind)) {
    if (o.status.conditions?.some((c) => c.type === "Ready" && c.status === "True")) ready++;
  }
}
if (virsh instanceof SessionVirsh) await virsh.close();
rt.close();
console.log(JSON.stringify({ mode, ms, calls: virsh.calls, reconciles: manager.reconciles, objects, ready }));
