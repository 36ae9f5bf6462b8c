/** The health of an etcd store for `lv doctor`: which members answer, who leads, whether there is quorum. */
import type { EtcdClient } from "./etcd_client.ts";

export interface MemberHealth {
  name: string;
  endpoint: string;
  /** etcd's version, when the member answered. */
  version?: string;
  leader?: boolean;
  error?: string;
}

export interface EtcdHealth {
  members: MemberHealth[];
  /** Members that answer; quorum needs more than half. */
  answering: number;
  quorum: boolean;
}

export async function etcdHealth(client: EtcdClient): Promise<EtcdHealth> {
  const members = await client.members();
  const health = await Promise.all(members.map(async (m): Promise<MemberHealth> => {
    const endpoint = m.clientURLs[0] ?? "";
    try {
      const status = await client.status(endpoint);
      const header = status.header as { member_id?: string } | undefined;
      return {
        name: m.name,
        endpoint,
        version: String(status.version),
        leader: status.leader !== undefined && status.leader === header?.member_id,
      };
    } catch (e) {
      return { name: m.name, endpoint, error: (e as Error).message };
    }
  }));
  const answering = health.filter((h) => !h.error).length;
  return { members: health, answering, quorum: answering > members.length / 2 };
}
