/**
 * What the forwarder tests share: a free loopback port, and forwarder processes run by deno from this
 * checkout (`lv port-forward --supervised`).
 *
 * @module
 */
import { selfProcesses } from "../../src/guest/forwarder/forwarder_processes.ts";
import type { ForwarderProcesses } from "../../src/guest/forwarder/forwarder_supervisor.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A loopback port nothing listens on now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Forwarder processes started as `deno run mod.ts port-forward --supervised` from this checkout. */
export function checkoutForwarders(): ForwarderProcesses {
  return selfProcesses([Deno.execPath(), "run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}mod.ts`]);
}
