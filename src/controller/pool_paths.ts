/**
 * Where lv creates a storage pool that a Box, Volume or context names and the libvirt host lacks: a `dir`
 * pool at the default path for the kind of connection. qemu:///system: `default` at libvirt's own
 * /var/lib/libvirt/images, others under /var/lib/libvirt/lv-pools/; qemu:///session: under
 * ~/.local/share/lv (`default` at ~/.local/share/lv/images). An existing pool is never changed.
 */
import { join } from "node:path";

/** libvirt's own default pool path on a system connection. */
export const DEFAULT_POOL_PATH = "/var/lib/libvirt/images";

/** Where a missing pool is created on `uri`; undefined where lv cannot know (a session on another host). */
export function poolPathFor(uri: string, name: string): string | undefined {
  if (/^[a-z0-9+]+:\/\/[^/]*\/system/i.test(uri)) {
    return name === "default" ? DEFAULT_POOL_PATH : `/var/lib/libvirt/lv-pools/${name}`;
  }
  if (/^qemu:\/\/\/session/.test(uri)) {
    const data = Deno.env.get("XDG_DATA_HOME") || join(Deno.env.get("HOME") ?? "", ".local", "share");
    if (!data.startsWith("/")) return undefined;
    return name === "default" ? join(data, "lv", "images") : join(data, "lv", "pools", name);
  }
  return undefined;
}
