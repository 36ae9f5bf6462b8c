/** What commands run against: the store, the libvirt connections, and where output goes. */
import type { AnyResource } from "../api/types.ts";
import { Libvirt } from "../libvirt/libvirt.ts";
import { ProcessVirsh, type VirshRunner } from "../libvirt/virsh.ts";
import { SessionVirsh } from "../libvirt/session_virsh.ts";
import type { JumpHost, Transport } from "../config/ssh_transport.ts";
import { isSshUri } from "../config/ssh_uri.ts";
import { type SelectedConnection, selectedConnection } from "./selected_connection.ts";
import { type StoreRuntime, storeRuntime, type StoreRuntimeOptions } from "./store_runtime.ts";

export { type Output, storePath } from "./store_runtime.ts";

export interface Runtime extends StoreRuntime {
  /** libvirt on the selected connection. */
  libvirt: Libvirt;
  /** libvirt where a resource lives: its spec.context, else the selected connection. */
  libvirtFor(obj: AnyResource): Libvirt;
  /** The jump host for reaching a resource's guests (remote libvirt over ssh), if any. */
  jumpFor(obj: AnyResource): JumpHost | undefined;
  /** The URI a `virsh` of our own (lv console) connects with to where a resource lives (lv's ssh wrapper added). */
  virshUriFor(obj: AnyResource): string;
  /** Ends the virsh sessions and closes the store. */
  close(): Promise<void>;
}

export interface RuntimeOptions extends StoreRuntimeOptions {
  virsh?: VirshRunner;
  /** A virsh process per command instead of a session (a command that runs one: cheaper by a session's end). */
  processPerCommand?: boolean;
}

/** A libvirt per context, opened when first asked for. */
interface Connections {
  side(context: string | undefined): { libvirt: Libvirt; jump?: JumpHost; connectUri: string };
  /** Ends the virsh sessions started. */
  close(): Promise<void>;
}

/** The libvirt sides of a selected connection: a virsh session (or runner) per context, made on first use. */
async function openConnections(selected: SelectedConnection, options: RuntimeOptions): Promise<Connections> {
  const { home, config, connection, connectionOf } = selected;
  // The ssh machinery (and node:crypto with it) loads only when a connection may go through ssh.
  const ssh = config.contexts.length > 0 || isSshUri(connection.uri) || isSshUri(connectionOf(undefined).uri)
    ? await import("../config/ssh_transport.ts")
    : undefined;
  const open = new Map<string, { libvirt: Libvirt; jump?: JumpHost; connectUri: string }>();
  const sessions: SessionVirsh[] = [];
  const side = (context: string | undefined) => {
    const key = context ?? "";
    let found = open.get(key);
    if (!found) {
      const c = connectionOf(context);
      const transport: Transport = ssh ? ssh.prepareTransport(home, c) : { connectUri: c.uri };
      const jump = transport.jump;
      const explain = jump && ssh && ((stderr: string) => ssh.explainSshFailure(stderr, jump));
      // One long-lived virsh per connection (bench/session.ts: an observation pass 6x faster locally, 15x
      // over ssh); LV_VIRSH=process runs a process per command as before.
      const virsh = options.virsh ??
        (options.processPerCommand || Deno.env.get("LV_VIRSH") === "process"
          ? new ProcessVirsh(c.uri, transport.connectUri, explain)
          : new SessionVirsh(c.uri, transport.connectUri, explain));
      if (virsh instanceof SessionVirsh) sessions.push(virsh);
      found = { libvirt: new Libvirt(virsh), jump: transport.jump, connectUri: transport.connectUri };
      open.set(key, found);
    }
    return found;
  };
  return { side, close: async () => void await Promise.all(sessions.map((v) => v.close())) };
}

/**
 * The libvirt of the selected connection for one virsh command (`lv version`): a process, not a session (whose
 * end costs more than the command), and no store (SQLite neither loaded nor opened).
 */
export async function openLibvirt(
  options: RuntimeOptions = {},
): Promise<{ libvirt: Libvirt; close(): Promise<void> }> {
  const selected = await selectedConnection(options);
  const c = await openConnections(selected, { ...options, processPerCommand: true });
  return { libvirt: c.side(selected.connection.context).libvirt, close: c.close };
}

/**
 * Opens the store and selects the connection. The config file is read first, so a bad config or an unknown
 * context fails before anything is opened.
 */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const selected = await selectedConnection(options);
  const { side, close } = await openConnections(selected, options);
  const base = await storeRuntime(selected, options);
  const { connection } = selected;
  return {
    ...base,
    get libvirt() {
      return side(connection.context).libvirt;
    },
    libvirtFor: (obj) => side(base.contextOf(obj)).libvirt,
    jumpFor: (obj) => side(base.contextOf(obj)).jump,
    virshUriFor: (obj) => side(base.contextOf(obj)).connectUri,
    close: async () => {
      await close();
      await base.close();
    },
  };
}
