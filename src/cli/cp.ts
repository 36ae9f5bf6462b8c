/** lv cp: which side is the guest (NAME:PATH), then the copy over SFTP. */
import { CopyError, download, upload } from "../guest/copy_files.ts";
import { sftpFiles } from "../guest/sftp_files.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";
import { connectGuest } from "./ssh.ts";

/** A copy in one direction: `domain` is the guest's side. */
export interface CopyDirection {
  to: "guest" | "host";
  domain: string;
  guestPath: string;
  hostPath: string;
}

/** `NAME:PATH` (a domain's name, then a path): the guest side; anything else (./a:b, /x:y) is a local path. */
function guestSide(arg: string): { domain: string; path: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(.*)$/.exec(arg);
  return m ? { domain: m[1], path: m[3] === "" ? "." : m[3] } : undefined;
}

/** Which of `src` and `dst` is in the guest; exactly one must be. */
export function copyDirection(src: string, dst: string): CopyDirection {
  const [from, to] = [guestSide(src), guestSide(dst)];
  if (from && to) {
    throw new UsageError("both sides are in a guest", "copy through this host, one side at a time");
  }
  if (!from && !to) {
    throw new UsageError("neither side names a guest (NAME:PATH)", "e.g. lv cp ./x web:/tmp/x");
  }
  return from
    ? { to: "host", domain: from.domain, guestPath: from.path, hostPath: dst }
    : { to: "guest", domain: to!.domain, guestPath: to!.path, hostPath: src };
}

/** Copies as `direction` says. */
export async function copy(
  rt: Runtime,
  direction: CopyDirection,
  options: { namespace: string; recursive: boolean },
): Promise<void> {
  const { conn } = await connectGuest(rt, direction.domain, options.namespace);
  try {
    const sftp = await conn.sftp();
    try {
      const files = sftpFiles(sftp);
      const copyOptions = { recursive: options.recursive };
      if (direction.to === "guest") await upload(files, direction.hostPath, direction.guestPath, copyOptions);
      else await download(files, direction.guestPath, direction.hostPath, copyOptions);
    } finally {
      sftp.end();
    }
  } catch (e) {
    if (e instanceof CopyError) throw new CommandFailed(e.message);
    throw new CommandFailed(`lv cp: ${(e as Error).message}`);
  } finally {
    conn.close();
  }
}
