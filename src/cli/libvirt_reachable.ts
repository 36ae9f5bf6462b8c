/** What apply says when the libvirt it would converge on cannot be used: the failure and its fix. */
import { isRemoteUri } from "../config/ssh_uri.ts";
import { CommandFailed } from "./errors.ts";

/**
 * The test:/// driver keeps its state inside each virsh process, so nothing lv defines there survives to the
 * next command: apply refuses to wait on it rather than wait forever (--wait=false only writes the store).
 */
export function refuseTestDriver(uri: string): void {
  if (!uri.startsWith("test://")) return;
  throw new CommandFailed(
    `${uri} is libvirt's test driver: each virsh process sees its own state, so lv cannot converge on it; ` +
      "nothing was applied. Use qemu:///system or qemu:///session (--connect, $LV_CONNECT or a context), or " +
      "--wait=false to only write the objects",
  );
}

/** The error for a libvirt that did not answer `virsh version`, with what to do about it. */
export function unreachable(uri: string, context: string | undefined, e: Error): CommandFailed {
  const where = context ? `context ${context} (${uri})` : uri;
  const fix = isRemoteUri(uri)
    ? "check the host, user and key of the context (lv config get-contexts; lv doctor --context NAME)"
    : /permission denied/i.test(e.message)
    ? "add your user to the libvirt group (usermod -aG libvirt $USER) and log in again, or use qemu:///session"
    : "start libvirtd (systemctl start libvirtd, or scripts/setup.sh), check the socket in the URI, or use " +
      "qemu:///session; lv doctor checks the host";
  return new CommandFailed(
    `cannot reach libvirt of ${where}: ${e.message}; nothing was applied.\nfix: ${fix}`,
  );
}
