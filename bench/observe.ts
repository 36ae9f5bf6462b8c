/**
 * One observation pass of lv's controllers over every object in $LV_HOME's store, in this process, with a
 * virsh process per command (ProcessVirsh) or long-lived virsh sessions (SessionVirsh,
 * src/libvirt/session_virsh.ts). Prints {mode, ms, calls, reconciles, objects, ready, sessions} as JSON; the
 * objects are expected converged, so nothing is changed. $LV_CONNECT (default qemu:///system) is the
 * connection; a qemu+ssh URI goes through lv's ssh wrapper (ControlMaster), as lv does.
 *
 *   LV_HOME=DIR [LV_CONNECT=URI] deno run -A bench/observe.ts process|session [workers]
 */
import { openRuntime } from "../src/cli/runtime.ts";
import { lvHome } from "../src/cli/selected_connection.ts";
import { controllerContext } from "../src/controller/controller_context.ts";
import { RECONCILERS } from "../src/controller/reconcilers.ts";
import { Manager } from "../src/controller/manager.ts";
import { KINDS } from "../src/api/types.ts";
import { prepareTransport } from "../src/config/ssh_transport.ts";
import { ProcessVirsh } from "../src/libvirt/virsh.ts";
import { SessionVirsh } from "../src/libvirt/session_virsh.ts";

const URI = Deno.env.get("LV_CONNECT") ?? "qemu:///system";
const mode = Deno.args[0];
if (mode !== "process" && mode !== "session") throw new Error("usage: observe.ts process|session [workers]");
const { connectUri } = prepareTransport(lvHome(), { uri: URI });
const virsh = mode === "session" ? new SessionVirsh(URI, connectUri) : new ProcessVirsh(URI, connectUri);
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
const sessions = virsh instanceof SessionVirsh ? virsh.pids.length : 0;
if (virsh instanceof SessionVirsh) await virsh.close();
await rt.close();
console.log(
  JSON.stringify({ mode, ms, calls: virsh.calls, reconciles: manager.reconciles, objects, ready, sessions }),
);
