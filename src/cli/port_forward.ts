/** lv port-forward: the forwarder of spec.forwardedPorts, run in the foreground until Ctrl-C. */
import { forwardedPortText } from "../api/forwarded_port.ts";
import type { Domain, ForwardedPort } from "../api/types.ts";
import { parseIPv4 } from "../api/validate_ipv4.ts";
import { forwarderConfig } from "../guest/forwarder/forwarder_config.ts";
import { PortForwarder, PortInUseError } from "../guest/forwarder/port_forwarder.ts";
import { sshTunnelOpener } from "../guest/forwarder/ssh_tunnel.ts";
import { describeCondition } from "./await_objects.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

function port(text: string, spec: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) {
    throw new UsageError(
      `"${spec}": ${JSON.stringify(text)} is not a port (1-65535)`,
      "e.g. 8080:80, or 5432",
    );
  }
  return n;
}

/** `8080:80` (host 8080 to guest 80) or `5432` (the same on both sides), listening on `address`. */
export function parsePortSpecs(specs: string[], address: string): ForwardedPort[] {
  if (parseIPv4(address) === undefined) {
    throw new UsageError(`--address ${JSON.stringify(address)} is not an IPv4 address`);
  }
  const ports = specs.map((spec) => {
    const parts = spec.split(":");
    if (parts.length > 2) throw new UsageError(`"${spec}" is not [HOST:]GUEST`, "e.g. 8080:80, or 5432");
    const guest = port(parts[parts.length - 1], spec);
    const host = parts.length === 2 ? port(parts[0], spec) : guest;
    return { host, guest, hostIp: address, protocol: "tcp" as const };
  });
  const hosts = ports.map((p) => p.host);
  const twice = hosts.find((h, i) => hosts.indexOf(h) !== i);
  if (twice !== undefined) throw new UsageError(`host port ${twice} is given twice`);
  return ports;
}

/** Forwards `ports` to the domain's guest until SIGINT or SIGTERM; the exit code. */
export async function portForward(
  rt: Runtime,
  name: string,
  options: { namespace: string; ports: ForwardedPort[] },
): Promise<number> {
  const dom = await rt.store.get({ kind: "Domain", namespace: options.namespace, name }) as
    | Domain
    | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const config = dom.status.state === "running"
    ? await forwarderConfig(dom, {
      home: rt.home,
      store: rt.store,
      jump: rt.jumpFor(dom),
      ports: options.ports,
    })
    : undefined;
  if (!config) {
    throw new CommandFailed(
      `domain/${name} has not answered SSH yet (${
        describeCondition(dom)
      }); wait with: lv wait --for=condition=Ready domain/${name}`,
    );
  }
  const forwarder = new PortForwarder(config.ports, sshTunnelOpener(config.target), {
    log: (line) => rt.output.err(`${line}\n`),
  });
  try {
    forwarder.listen();
  } catch (e) {
    if (e instanceof PortInUseError) throw new CommandFailed(e.message);
    throw e;
  }
  for (const p of config.ports) rt.output.out(`Forwarding from ${forwardedPortText(p)}\n`);
  const stop = () => forwarder.close();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await forwarder.serve();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return 0;
}
