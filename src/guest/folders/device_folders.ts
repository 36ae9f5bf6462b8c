/**
 * 9p and virtiofs synced folders, guest side: the domain's definition has a `<filesystem>` device per folder
 * (src/libvirt/xml/domain_filesystem_xml.ts); the guest mounts each device's tag on the folder's target, now
 * and at every boot through an fstab block lv owns (one per type, rewritten only when it changes, so a folder
 * removed from the spec leaves fstab too). A folder added to a running domain has no device until the next
 * boot (the live definition lacks its tag): its mount waits for that boot (an event says so) instead of failing.
 */
import { guestStatusOf } from "../../api/guest_status.ts";
import type { SyncedFolder } from "../../api/types.ts";
import { mountTag } from "../../libvirt/xml/domain_filesystem_xml.ts";
import { withBlock } from "../nfs_exports.ts";
import { check, tail } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { FolderType } from "./folder_type.ts";

type DeviceType = "9p" | "virtiofs";

/** The kernel modules a type needs in the guest (Debian's cloud kernel has virtiofs, not 9p). */
const MODULES: Record<DeviceType, string[]> = { "9p": ["9p", "9pnet_virtio"], virtiofs: ["virtiofs"] };

/** A path as fstab writes it: space, tab, newline and backslash in octal. */
function fstabPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/** The mount options of a folder; nofail so that a boot without the device (removed from the spec) goes on. */
export function mountOptions(folder: SyncedFolder): string {
  const opts = folder.type === "9p" ? ["trans=virtio", "version=9p2000.L"] : [];
  if (folder.readonly === true) opts.push("ro");
  return [...opts, "nofail"].join(",");
}

/** The fstab block lv owns for the type's folders ("" for none). */
export function fstabBlock(type: DeviceType, folders: SyncedFolder[]): string {
  if (folders.length === 0) return "";
  const lines = folders.map((f) =>
    `${mountTag(f.target)} ${fstabPath(f.target)} ${type} ${mountOptions(f)} 0 0`
  );
  return `# lv-begin ${type}\n${lines.join("\n")}\n# lv-end ${type}\n`;
}

async function writeFstab(ctx: GuestStepContext, type: DeviceType, folders: SyncedFolder[]): Promise<void> {
  const text = await ctx.session.readFile("/etc/fstab", { sudo: true }) ?? "";
  const next = withBlock(text, type, fstabBlock(type, folders));
  if (next !== text) await ctx.session.putFile("/etc/fstab", next, { sudo: true, mode: 0o644 });
}

async function loadModules(ctx: GuestStepContext, type: DeviceType): Promise<void> {
  for (const module of MODULES[type]) {
    const r = await ctx.session.run(["modprobe", module], { sudo: true });
    if (r.code !== 0) {
      throw new Error(
        `${type} folders: the guest's kernel has no ${module} module (${tail(r.stderr || r.stdout, 2)})` +
          (type === "9p"
            ? "; Debian's cloud kernel lacks 9p: install linux-image-amd64, or use type: virtiofs"
            : ""),
      );
    }
  }
}

/** Mounts one folder unless mounted. */
async function mount(ctx: GuestStepContext, type: DeviceType, folder: SyncedFolder): Promise<void> {
  const { session } = ctx;
  if ((await session.run(["mountpoint", "-q", folder.target])).code === 0) return;
  await check(session, ["mkdir", "-p", folder.target], { sudo: true });
  const argv = ["mount", "-t", type, "-o", mountOptions(folder), mountTag(folder.target), folder.target];
  const r = await session.run(argv, { sudo: true });
  if (r.code !== 0) {
    throw new Error(
      `mount ${type} ${folder.source} on ${folder.target}: exit code ${r.code}: ${tail(r.stderr, 3)}`,
    );
  }
}

/** Whether the last sync had folders of the type (their fstab block is to be removed); true when unknown. */
function syncedBefore(ctx: GuestStepContext, type: DeviceType): boolean {
  try {
    return (JSON.parse(guestStatusOf(ctx.dom.status).synced ?? "[]") as SyncedFolder[]).some((f) =>
      f.type === type
    );
  } catch {
    return true;
  }
}

function deviceFolders(type: DeviceType): FolderType {
  return {
    async sync(ctx, folders) {
      if (folders.length > 0 && ctx.jump) {
        throw new Error(
          `${type} folders need libvirt on this machine; domain/${ctx.dom.metadata.name} runs on ${ctx.jump.host}: use type: rsync`,
        );
      }
      // No folder of the type now or at the last sync: nothing to add or remove, and no round trip to the guest.
      if (folders.length === 0 && !syncedBefore(ctx, type)) return;
      await writeFstab(ctx, type, folders);
      if (folders.length === 0) return;
      const live = await ctx.liveMountTags();
      const now = folders.filter((f) => live.has(mountTag(f.target)));
      if (now.length > 0) await loadModules(ctx, type);
      for (const f of folders) {
        if (now.includes(f)) {
          await mount(ctx, type, f);
          await ctx.event("Mounted", `${f.source} mounted on ${f.target} (${type})`);
        } else {
          await ctx.event(
            "MountPending",
            `${f.source} is mounted on ${f.target} (${type}) after the next boot`,
          );
        }
      }
    },
  };
}

export const ninePFolders: FolderType = deviceFolders("9p");
export const virtiofsFolders: FolderType = deviceFolders("virtiofs");
