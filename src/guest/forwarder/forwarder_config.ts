/** A Domain's forwarder config from what lv knows of its guest: address, pinned host key, login key. */
import { guestStatusOf } from "../../api/guest_status.ts";
import type { Domain, ForwardedPort } from "../../api/types.ts";
import type { JumpHost } from "../../config/ssh_transport.ts";
import type { Store } from "../../store/store.ts";
import { privateKeyPath } from "../key_files.ts";
import { type ForwarderConfig, forwarderLog } from "./forwarder_supervisor.ts";

/**
 * The config forwarding `ports` (default the Domain's forwardedPorts) to `dom`'s guest; undefined while lv
 * has not reached the guest yet (no address or no pinned host key).
 */
export async function forwarderConfig(
  dom: Domain,
  where: { home: string; store: Store; jump?: JumpHost; ports?: ForwardedPort[] },
): Promise<ForwarderConfig | undefined> {
  const address = guestStatusOf(dom.status).address;
  const hostKey = dom.status.sshHostKey;
  if (!address || !hostKey) return undefined;
  const keyFile = await privateKeyPath(where.home, where.store, dom);
  if (!keyFile) return undefined;
  return {
    uid: dom.metadata.uid,
    name: dom.metadata.name,
    namespace: dom.metadata.namespace,
    ports: where.ports ?? dom.spec.forwardedPorts ?? [],
    target: {
      host: address,
      port: dom.spec.ssh.port,
      user: dom.spec.ssh.user,
      keyFile,
      hostKey,
      ...(where.jump ? { via: where.jump } : {}),
    },
    logFile: forwarderLog(where.home, dom.metadata.uid),
  };
}
