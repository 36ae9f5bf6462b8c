/**
 * Field table rows for Domain.spec.forwardedPorts (vagrant's forwarded_port); `schema.ts` puts them into
 * the Domain's table.
 *
 * @module
 */

import { DEFAULT_FORWARD_HOST_IP, type ForwardedPort } from "./forwarded_port.ts";
import { int, list, obj, oneOf, str } from "./field_types.ts";

const PORT_MAX = 65535;

const FORWARDED_PORT = obj<ForwardedPort>(
  "A TCP port on this host carried to a port of the guest: through the guest's SSH (lv's key, the pinned host key), through the libvirt host for a remote context.",
  {
    guest: int("Port in the guest; connections reach it on the guest's loopback.", 1, PORT_MAX, {
      required: true,
      vagrant: "guest",
    }),
    host: int(
      "Port on this host; unique within a file. Below 1024 only when lv runs as root.",
      1,
      PORT_MAX,
      { required: true, vagrant: "host" },
    ),
    hostIp: str("Address on this host the port listens on (0.0.0.0: every address).", {
      format: "ipv4",
      default: DEFAULT_FORWARD_HOST_IP,
      vagrant: "host_ip",
    }),
    protocol: oneOf(
      "Only tcp: the ports are carried through SSH, which carries tcp only.",
      ["tcp"] as const,
      {
        default: "tcp",
        vagrant: "protocol",
      },
    ),
  },
);

/** Domain.spec.forwardedPorts. */
export const FORWARDED_PORTS = list(
  "Ports of this host forwarded to the guest while it runs (a supervised forwarder process per Domain, started with it, its SSH tunnel opened again when the guest reboots or the tunnel drops, started again if it is killed, stopped by lv halt and lv delete). `lv port-forward` is the foreground form.",
  FORWARDED_PORT,
  { vagrant: "vm.network :forwarded_port" },
);
