/**
 * The ControllerContext built from what a process has: its store, its libvirt connections, and where it
 * shows progress. The CLI's Runtime is such a host; so is a test harness.
 */
import type { AnyResource } from "../api/types.ts";
import type { TransferProgress } from "../box/transfer.ts";
import type { JumpHost } from "../config/ssh_transport.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { refString, type Store } from "../store/store.ts";
import type { ControllerContext } from "./context.ts";

/** What the controllers need of the process that runs them. */
export interface ControllerHost {
  home: string;
  store: Store;
  /** Identifies this process as a lease holder. */
  holder: string;
  libvirtFor(obj: AnyResource): Libvirt;
  jumpFor(obj: AnyResource): JumpHost | undefined;
  /** Where events, provisioner output and notices are shown (stderr), and byte transfers. */
  output: { err(text: string): void; transfer?(who: string, progress: TransferProgress): void };
}

/** The context reconcilers get; with quiet, events are recorded but not shown. */
export function controllerContext(
  host: ControllerHost,
  options: { quiet?: boolean } = {},
): ControllerContext {
  const partial = new Map<string, string>();
  const transfer = host.output.transfer;
  return {
    progress: (obj, text, prefix) => {
      const key = refString(obj);
      const lines = ((partial.get(key) ?? "") + text).split("\n");
      partial.set(key, lines.pop()!);
      for (const line of lines) host.output.err(`${prefix}${line}\n`);
    },
    store: host.store,
    home: host.home,
    libvirtFor: (obj) => host.libvirtFor(obj),
    jumpFor: (obj) => host.jumpFor(obj),
    transfer: transfer && ((obj, p) => transfer.call(host.output, refString(obj), p)),
    now: () => new Date(),
    event: async (obj: AnyResource, type, reason, message) => {
      await host.store.recordEvent(obj, { type, reason, message });
      if (!options.quiet) host.output.err(`${refString(obj)}: ${reason}: ${message}\n`);
    },
  };
}
