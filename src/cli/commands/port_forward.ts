/** lv port-forward NAME [HOST:]GUEST...: forwarded ports in the foreground, like kubectl port-forward. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const portForwardCommand = defineCommand({
  name: "port-forward",
  summary: "forward host ports to the guest until Ctrl-C",
  synopsis: ["NAME [HOST:]GUEST..."],
  usage: ["port-forward NAME [HOST:]GUEST... [--address IP]"],
  description:
    `Listens on each HOST port of this machine and carries its connections to the GUEST port of the guest
(on its loopback), through the guest's SSH with lv's key and the pinned host key (through the libvirt host
for a remote context), until Ctrl-C; nothing is left running. GUEST alone forwards the same port number.
spec.forwardedPorts does the same for as long as the domain runs, without a command in the foreground.`,
  args: [{ name: "NAME", kind: "domain" }, { name: "[HOST:]GUEST", kind: "text", repeatable: true }],
  flags: {
    address: {
      type: "string",
      value: "IP",
      kind: "host",
      default: "127.0.0.1",
      description: "the address of this machine to listen on (0.0.0.0: every address)",
    },
    supervised: {
      type: "boolean",
      description: "run as a domain's supervised forwarder (lv starts these itself; config on stdin)",
    },
  },
  examples: ["lv port-forward web 8080:80", "lv port-forward web 5432 --address 0.0.0.0"],
  async run({ flags, args, withRuntime }) {
    if (flags.supervised) {
      if (args.length !== 1) throw new UsageError("--supervised takes the domain's uid");
      const { runSupervisedForwarder } = await import("../../guest/forwarder/supervised_forwarder.ts");
      return await runSupervisedForwarder(args[0]);
    }
    if (args.length < 2) {
      throw new UsageError(
        "lv port-forward takes a domain name and ports",
        "e.g. lv port-forward web 8080:80",
      );
    }
    const { parsePortSpecs, portForward } = await import("../port_forward.ts");
    const ports = parsePortSpecs(args.slice(1), flags.address);
    return await withRuntime((rt) => portForward(rt, args[0], { namespace: flags.namespace, ports }));
  },
});
