/** {@linkcode RemoteFiles} over SFTP (ssh2's SFTP session on a guest connection). */
import type { RemoteEntry, RemoteFiles } from "./copy_files.ts";

/** The part of ssh2's Stats lv reads. */
interface SftpStats {
  mode: number;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

type Callback<T = void> = (err: Error | undefined | null, value: T) => void;

/** The part of ssh2's SFTPWrapper lv uses. */
export interface SftpSession {
  stat(path: string, cb: Callback<SftpStats>): void;
  mkdir(path: string, attrs: { mode: number }, cb: Callback): void;
  readdir(path: string, cb: Callback<{ filename: string; attrs: SftpStats }[]>): void;
  fastPut(local: string, remote: string, opts: { mode: number }, cb: Callback): void;
  fastGet(remote: string, local: string, cb: Callback): void;
  end(): void;
}

/** SFTP status code 2: no such file. */
const NO_SUCH_FILE = 2;

function call<T>(what: string, fn: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((err, value) => err ? reject(new Error(`${what}: ${err.message}`, { cause: err })) : resolve(value))
  );
}

/** Files in the guest, as the SSH user sees them. */
export function sftpFiles(sftp: SftpSession): RemoteFiles {
  return {
    stat: (path) =>
      new Promise((resolve, reject) =>
        sftp.stat(path, (err, s) => {
          if ((err as { code?: number } | undefined)?.code === NO_SUCH_FILE) return resolve(undefined);
          if (err) return reject(new Error(`stat ${path} in the guest: ${err.message}`, { cause: err }));
          resolve({ isDirectory: s.isDirectory(), mode: s.mode & 0o7777 });
        })
      ),
    async mkdir(path, mode) {
      const there = await this.stat(path);
      if (there?.isDirectory) return;
      await call<void>(`mkdir ${path} in the guest`, (cb) => sftp.mkdir(path, { mode }, cb));
    },
    async readdir(path) {
      const list = await call<{ filename: string; attrs: SftpStats }[]>(
        `list ${path} in the guest`,
        (cb) => sftp.readdir(path, cb),
      );
      return list.filter((e) => !e.attrs.isSymbolicLink()).map((e): RemoteEntry => ({
        name: e.filename,
        isDirectory: e.attrs.isDirectory(),
        mode: e.attrs.mode & 0o7777,
      }));
    },
    put: (local, remote, mode) =>
      call<void>(`write ${remote} in the guest`, (cb) => sftp.fastPut(local, remote, { mode }, cb)),
    async get(remote, local, mode) {
      await call<void>(`read ${remote} from the guest`, (cb) => sftp.fastGet(remote, local, cb));
      await Deno.chmod(local, mode);
    },
  };
}
