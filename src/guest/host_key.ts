/** Host keys as OpenSSH shows them, and the error of a guest that presents another than the pinned one. */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

/** The guest presented a host key other than the pinned one. Never retried silently. */
export class HostKeyMismatchError extends Error {
  constructor(readonly host: string, readonly expected: string, readonly got: string) {
    super(
      `host key of ${host} changed: expected ${fingerprint(expected)}, got ${fingerprint(got)}. ` +
        `If the guest was rebuilt on purpose, delete and re-create the Domain; otherwise someone may be intercepting the connection.`,
    );
    this.name = "HostKeyMismatchError";
  }
}

/** "SHA256:..." like ssh-keygen -l. */
export function fingerprint(key: string): string {
  const blob = key.trim().split(/\s+/)[1] ?? key;
  return "SHA256:" +
    createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
}
