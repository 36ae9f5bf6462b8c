/**
 * Any lv command starts again the forwarders of forwardedPorts found dead (kill -9, a crash, the machine
 * restarted) and reports it as an event on the Domain; a forwarder whose Domain is gone or should not run
 * is forgotten. `lv controller` does the same on its passes (the Domain controller's ensureForwarder).
 */
import type { Domain } from "../api/types.ts";
import { forwarderConfig } from "../guest/forwarder/forwarder_config.ts";
import { SELF_PROCESSES } from "../guest/forwarder/forwarder_processes.ts";
import { deadForwarders, ensureForwarder, stopForwarder } from "../guest/forwarder/forwarder_supervisor.ts";
import type { Runtime } from "./runtime.ts";

/** Restarts the dead forwarders under rt.home; failures are warnings (the command itself goes on). */
export async function reviveForwarders(rt: Runtime): Promise<void> {
  for (const record of deadForwarders(rt.home, SELF_PROCESSES)) {
    const ref = { kind: "Domain" as const, namespace: record.namespace, name: record.name };
    const dom = await rt.store.get(ref) as Domain | undefined;
    const config = dom?.metadata.uid === record.uid && dom.spec.state === "Running" &&
        dom.status.state === "running"
      ? await forwarderConfig(dom, { home: rt.home, store: rt.store, jump: rt.jumpFor(dom) })
      : undefined;
    if (!dom || !config || config.ports.length === 0) {
      await stopForwarder(rt.home, record.uid, SELF_PROCESSES);
      continue;
    }
    try {
      const outcome = await ensureForwarder(rt.home, { uid: record.uid, config }, SELF_PROCESSES);
      if (outcome.action !== "revived") continue;
      const message =
        `port forwarder pid ${outcome.deadPid} was gone (killed?): started again as pid ${outcome.pid}`;
      await rt.store.recordEvent(dom, { type: "Warning", reason: "ForwarderRestarted", message });
      rt.output.err(`domain/${dom.metadata.name}: ForwarderRestarted: ${message}\n`);
    } catch (e) {
      rt.output.err(
        `warning: domain/${record.name}: port forwarder not restarted: ${(e as Error).message}\n`,
      );
    }
  }
}
