/**
 * The system store's file: one SQLite file every member of a group reads and writes (the users of
 * qemu:///system share its objects). Its directory is `root:GROUP` mode 2770 (setgid, so every file created
 * in it, SQLite's -wal and -shm included, gets the group) and the file is mode 0660; SQLite gives its -wal
 * and -shm files the database file's mode (and, as root, its owner), so every member can open them too.
 */
import { opensReadWrite } from "../api/file_access.ts";

/** The file is the group's, and this user may not use it (or cannot create it). */
export class StoreAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreAccessError";
  }
}

/** The directory's mode: setgid, rwx for owner and group. */
export const SHARED_DIR_MODE = 0o2770;
/** The file's mode. */
export const SHARED_FILE_MODE = 0o660;

/** The group id of `group` from /etc/group (`groupFile`), or undefined. */
export function groupId(group: string, groupFile = "/etc/group"): number | undefined {
  let text = "";
  try {
    text = Deno.readTextFileSync(groupFile);
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && /^\d+$/.test(gid ?? "")) return Number(gid);
  }
  return undefined;
}

export interface SharedStoreOptions {
  /** The group whose members share the store. */
  group: string;
  /** Who is asking (for messages); default $USER or the uid. */
  user?: string;
  /** The group file (tests). */
  groupFile?: string;
}

function denied(path: string, options: SharedStoreOptions, cause: string): StoreAccessError {
  const user = options.user ?? Deno.env.get("USER") ?? `uid ${Deno.uid()}`;
  return new StoreAccessError(
    `cannot open the store ${path}: ${cause}. It is the system store, shared by the members of group ` +
      `${options.group}: add ${user} to it (usermod -aG ${options.group} ${user}, then log in again), ` +
      `or use a store of your own (--store sqlite:PATH, LV_STORE, or LV_HOME)`,
  );
}

/** As root: the directory root:GROUP 2770, created when missing. */
function prepareDirectory(dir: string, gid: number): void {
  Deno.mkdirSync(dir, { recursive: true });
  const info = Deno.statSync(dir);
  if (info.gid !== gid) Deno.chownSync(dir, null, gid);
  if ((info.mode! & 0o7777) !== SHARED_DIR_MODE) Deno.chmodSync(dir, SHARED_DIR_MODE);
}

/**
 * Makes `path` ready for SQLite: root prepares the directory (root:GROUP 2770) and the file (GROUP 0660);
 * a member of the group creates the file 0660 when the directory is there; anyone else gets a
 * StoreAccessError naming the path, the group and the fix. A file that already opens read-write (every
 * command's open of an existing store) is used as it is, its directory too (`lv doctor` checks the file's mode
 * and group).
 */
export function prepareSharedStore(path: string, options: SharedStoreOptions): void {
  if (opensReadWrite(path)) return;
  const dir = parentDir(path);
  const root = Deno.uid() === 0;
  const gid = groupId(options.group, options.groupFile);
  if (root) {
    if (gid === undefined) {
      throw new StoreAccessError(
        `cannot prepare the store ${path}: there is no group ${options.group} (install libvirt-daemon-system, ` +
          `which creates it, or choose a store with --store sqlite:PATH)`,
      );
    }
    prepareDirectory(dir, gid);
  }
  try {
    Deno.statSync(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new StoreAccessError(
        `cannot open the store ${path}: ${dir} does not exist, and only root can make it: run ` +
          `scripts/setup.sh, or as root: install -d -m 2770 -g ${options.group} ${dir}`,
      );
    }
    throw denied(path, options, "permission denied");
  }
  try {
    const file = Deno.openSync(path, { read: true, write: true, createNew: true, mode: SHARED_FILE_MODE });
    file.close();
    Deno.chmodSync(path, SHARED_FILE_MODE); // the umask may have narrowed it
    if (gid !== undefined && Deno.statSync(path).gid !== gid) Deno.chownSync(path, null, gid);
    return;
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) throw denied(path, options, "permission denied");
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  try {
    Deno.openSync(path, { read: true, write: true }).close();
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) throw denied(path, options, "permission denied");
    throw e;
  }
}

/**
 * The directory a file path is in (node:path's dirname for a file's path), here because every command opens
 * the store: a `node:` import would start Node's compatibility layer on each (tests/unit/startup_imports_test.ts).
 */
function parentDir(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}
