/** A Domain's forwarder config from what lv knows of its guest: address, pinned host key, login key. */
import { sshEndpointOf } from "../../api/ssh_endpoint.ts";
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
  const endpoint = sshEndpointOf(dom);
  const hostKey = dom.status.sshHostKey;
  if (!endpoint || !hostKey) return undefined;
  const keyFile = await privateKeyPath(where.home, where.store, dom);
  if (!keyFile) return undefined;
  return {
    uid: dom.metadata.uid,
    name: dom.metadata.name,
    namespace: dom.metadata.namespace,
    ports: where.ports ?? dom.spec.forwardedPorts ?? [],
    target: {
      host: endpoint.host,
      port: endpoint.port,
      user: dom.spec.ssh.user,
      keyFile,
      hostKey,
      ...(where.jump ? { via: where.jump } : {}),
    },
    logFile: forwarderLog(where.home, dom.metadata.uid),
  };
}
