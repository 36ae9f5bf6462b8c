/**
 * Forwarded ports across one file: a host port (on one address, or any address for 0.0.0.0) used twice —
 * within a Domain or by two Domains of the same context — and a port below the first one this user may
 * bind (1024 unless lv runs as root).
 *
 * @module
 */

import { type ForwardedPort, WILDCARD_HOST_IPS } from "./forwarded_port.ts";
import type { Loose } from "./loose.ts";
import { type PathSegment, positionOf, type Problem, problemAt, quote } from "./problem.ts";
import type { AnyResource, Domain } from "./types.ts";

/** Options for {@linkcode checkForwardedPorts}. */
export interface ForwardedPortsOptions {
  /**
   * The lowest port this user may listen on (Linux's net.ipv4.ip_unprivileged_port_start: 1024 by default,
   * 0 for root). Default 0: no port is refused for it.
   */
  unprivilegedPortStart?: number;
}

interface Use {
  where: string;
  hostIp: string;
}

function place(res: Loose<AnyResource>, path: PathSegment[]): string {
  const name = `domain ${quote(res.metadata?.name ?? "?")}`;
  const pos = positionOf(res, path);
  return pos && pos.line > 0 ? `${name} at ${pos.file}:${pos.line}` : name;
}

function overlaps(a: string, b: string): boolean {
  return a === b || WILDCARD_HOST_IPS.includes(a) || WILDCARD_HOST_IPS.includes(b);
}

/** Problems of the forwarded ports of `resources` (one file's documents, possibly partly invalid). */
export function checkForwardedPorts(
  resources: readonly Loose<AnyResource>[],
  options: ForwardedPortsOptions = {},
): Problem[] {
  const floor = options.unprivilegedPortStart ?? 0;
  const problems: Problem[] = [];
  // Every forwarder runs on this host, whatever the Domain's context: a port is taken once for all.
  const used = new Map<number, Use[]>();
  for (const res of resources) {
    if (res.kind !== "Domain") continue;
    const ports = ((res as Loose<Domain>).spec?.forwardedPorts ?? []) as Loose<ForwardedPort>[];
    ports.forEach((port, i) => {
      if (port?.host === undefined) return;
      const path: PathSegment[] = ["spec", "forwardedPorts", i, "host"];
      const hostIp = port.hostIp ?? "127.0.0.1";
      if (port.host < floor) {
        problems.push(problemAt(res, path, {
          message: `is below ${floor}: only root may listen on it, and lv does not run as root`,
          value: port.host,
          hint: `forward a port from ${floor} up, e.g. host: ${port.host + 8000}`,
        }));
      }
      const earlier = (used.get(port.host) ?? []).find((u) => overlaps(u.hostIp, hostIp));
      if (earlier) {
        problems.push(problemAt(res, path, {
          message: `host port ${hostIp}:${port.host} is forwarded twice`,
          value: port.host,
          hint: `also by ${earlier.where}`,
        }));
        return;
      }
      used.set(port.host, [...used.get(port.host) ?? [], { hostIp, where: `${place(res, path)}` }]);
    });
  }
  return problems;
}
