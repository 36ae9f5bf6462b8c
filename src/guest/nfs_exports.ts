/**
 * NFS synced folders, host side, as vagrant does it: one marked block per Domain in the exports file
 * (/etc/exports, or $LV_NFS_EXPORTS), then `exportfs -ra`. The block is rewritten only when it changes.
 */
import { createHash } from "node:crypto";
import { type HostCommand, runHostCommand } from "./host_command.ts";

export interface NfsExport {
  /** Host directory. */
  path: string;
  /** The guest's address. */
  client: string;
  /** Owner of the files as the guest sees them (all_squash to this uid/gid). */
  uid: number;
  gid: number;
}

export function exportsFile(): string {
  return Deno.env.get("LV_NFS_EXPORTS") || "/etc/exports";
}

/** The exports file's lines for one owner, between markers naming it. */
export function exportsBlock(owner: string, exports: NfsExport[]): string {
  if (exports.length === 0) return "";
  const lines = exports.map((e) => {
    if (/["\\]/.test(e.path) || [...e.path].some((c) => c.charCodeAt(0) < 0x20)) {
      throw new Error(
        `cannot export ${
          JSON.stringify(e.path)
        } over NFS: quotes, backslashes and control characters are not allowed`,
      );
    }
    // A stable fsid: exports of file systems without a device number (overlay, tmpfs) need one.
    const fsid = parseInt(createHash("sha256").update(e.path).digest("hex").slice(0, 7), 16);
    return `"${e.path}" ${e.client}(rw,no_subtree_check,all_squash,anonuid=${e.uid},anongid=${e.gid},fsid=${fsid})`;
  });
  return `# lv-begin ${owner}\n${lines.join("\n")}\n# lv-end ${owner}\n`;
}

/**
 * Replaces the owner's block in a text of lines (the exports file, a guest's fstab) where it is, or appends it;
 * an empty block removes it. The same block again gives the same text.
 */
export function withBlock(text: string, owner: string, block: string): string {
  const begin = `# lv-begin ${owner}\n`;
  const end = `# lv-end ${owner}\n`;
  const i = text.indexOf(begin);
  const j = i >= 0 ? text.indexOf(end, i) : -1;
  if (i >= 0 && j >= 0) return text.slice(0, i) + block + text.slice(j + end.length);
  return block ? `${text}${text && !text.endsWith("\n") ? "\n" : ""}${block}` : text;
}

/**
 * Makes the owner's exports exactly `exports`; runs `exportfs -ra` (through `run`) when the file changed.
 * Returns whether it did. Idempotent.
 */
export async function syncExports(
  owner: string,
  exports: NfsExport[],
  run: HostCommand = runHostCommand,
): Promise<boolean> {
  const file = exportsFile();
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const next = withBlock(text, owner, exportsBlock(owner, exports));
  if (next === text) return false;
  await Deno.writeTextFile(file, next);
  const out = await run(["exportfs", "-ra"]).catch((e) => {
    throw new Error(`cannot run exportfs (install nfs-kernel-server on the libvirt host): ${e.message}`);
  });
  if (out.code !== 0) throw new Error(`exportfs -ra: ${out.stderr.trim()}`);
  return true;
}
