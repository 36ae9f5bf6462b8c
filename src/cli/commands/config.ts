/** lv config SUBCOMMAND: the contexts of the config file (libvirt hosts), like kubectl config. */
import type { Store } from "../../store/store.ts";
import type { SET_CONTEXT_FLAGS } from "../../config/config.ts";
import { defineCommand, type FlagSpec } from "../command.ts";

const of = "set-context";

/** The flags of set-context: one per context field (SET_CONTEXT_FLAGS), and --password-stdin. */
const SET_CONTEXT = {
  host: { of, type: "string", value: "HOST", kind: "host", description: "libvirt host (none: this machine)" },
  port: { of, type: "string", value: "N", kind: "integer", description: "its SSH port (default 22)" },
  "connect-via-ssh": { of, type: "boolean", description: "use qemu+ssh:// (else qemu://HOST/system)" },
  username: { of, type: "string", value: "USER", kind: "user", description: "SSH user on the host" },
  "id-ssh-key-file": {
    of,
    type: "string",
    value: "FILE",
    kind: "file",
    description:
      "SSH private key for the host (not starting with /: in ~/.ssh, as vagrant-libvirt's id_ssh_key_file)",
  },
  "password-stdin": { of, type: "boolean", description: "read the SSH password from stdin" },
  driver: {
    of,
    type: "string",
    choices: ["kvm", "qemu"],
    kind: "choice",
    description: "vagrant-libvirt's driver option (both use libvirt's qemu driver)",
  },
  "storage-pool-name": {
    of,
    type: "string",
    value: "POOL",
    kind: "pool",
    description: "default pool for boxes and volumes applied in this context",
  },
  "default-network": {
    of,
    type: "string",
    value: "NET",
    kind: "network",
    description: "management network (a libvirt network on the host) for domains",
  },
  uri: {
    of,
    type: "string",
    value: "URI",
    kind: "uri",
    description: "a raw libvirt URI instead of the fields above",
  },
} as const satisfies Record<keyof typeof SET_CONTEXT_FLAGS | "password-stdin", FlagSpec>;

const NAME = { name: "NAME", kind: "context" } as const;

const SUBCOMMANDS = [
  { name: "set-context", summary: "create or change a context", args: [NAME] },
  { name: "use-context", summary: "make a context the current one", args: [NAME] },
  { name: "get-contexts", summary: "list the contexts", args: [{ ...NAME, optional: true }] },
  { name: "current-context", summary: "print the current context's name" },
  { name: "delete-context", summary: "remove a context nothing lives on", args: [NAME] },
  { name: "view", summary: "print the config file, passwords redacted" },
];

export const configCommand = defineCommand({
  name: "config",
  summary: `contexts (libvirt hosts): ${SUBCOMMANDS.map((s) => s.name).join(", ")}`,
  synopsis: ["SUBCOMMAND"],
  usage: [
    `config set-context NAME [--host HOST] [--port N] [--connect-via-ssh] [--username USER]
                         [--id-ssh-key-file FILE] [--password-stdin] [--driver kvm|qemu]
                         [--storage-pool-name POOL] [--default-network NET] | [--uri URI]`,
    "config use-context NAME",
    "config get-contexts [NAME]",
    "config current-context",
    "config delete-context NAME",
    "config view",
  ],
  description:
    `Contexts name libvirt hosts, with vagrant-libvirt's provider options; the file is like a kubeconfig
($LV_CONFIG, else $LV_HOME/config.yaml, else ~/.config/lv/config.yaml; written 0600). Which one a command
uses: --connect or --context, else $LV_CONNECT or $LV_CONTEXT, else currentContext, else qemu:///system.
lv apply records the context in each resource (spec.context), so one store spans several hosts; storage
pool and default network of the context become the defaults of what is applied there.

With --connect-via-ssh lv connects with qemu+ssh://USER@HOST:PORT/system: the host key is trusted on first
use and pinned, the key file (or the password, read from stdin and kept in the config file) is used by
lv's own ssh wrapper, and guests on the host's private networks are reached through it (lv ssh, rsync,
provisioning, ssh-config's ProxyCommand).`,
  subcommands: SUBCOMMANDS,
  flags: SET_CONTEXT,
  examples: [
    "lv config set-context lab --host hv1.example --connect-via-ssh --username root --id-ssh-key-file id_ed25519",
    "lv config use-context lab",
  ],
  async run({ flags, args, output }) {
    const { configCommand } = await import("../config_cmd.ts");
    const { openSelectedStore, selectedStore } = await import("../store_runtime.ts");
    const { readConfig } = await import("../selected_connection.ts");
    const { configPath, selectConnection } = await import("../../config/config.ts");
    let store: Promise<Store> | undefined;
    /** The store the other commands would use with these flags, and why. */
    const storeUrl = async () => {
      const config = await readConfig(configPath());
      const connection = selectConnection(config, { connect: flags.connect, context: flags.context });
      return { config, url: selectedStore(config, { flag: flags.store, uri: connection.uri }) };
    };
    try {
      await configCommand({
        sub: args[0] ?? "",
        name: args[1],
        flags: flags as Record<string, string | boolean | undefined>,
        readStdin: () => new Response(Deno.stdin.readable).text(),
        store: () => store ??= storeUrl().then(({ config, url }) => openSelectedStore(url, config)),
        storeLocation: () => storeUrl().then(({ url }) => `${url.text} (${url.from})`),
      }, output);
    } finally {
      (await store?.catch(() => undefined))?.close();
    }
  },
});
