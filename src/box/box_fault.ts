/** Why a box could not be fetched, as a Box condition reason, with the URL it happened on. */

/** Box condition reasons for what can go wrong between a catalog and a downloaded box. */
export type BoxFaultReason =
  /** The catalog's answer is not JSON (or not box metadata). */
  | "CatalogNotJson"
  /** No version of the box has a libvirt provider for this host's architecture. */
  | "NoLibvirtProvider"
  /** No version with a libvirt provider matches spec.version. */
  | "NoMatchingVersion"
  /** The downloaded file does not have the checksum the catalog or spec.checksum gives. */
  | "ChecksumMismatch"
  /** The server answered 404 (or 410) for the catalog entry or the box. */
  | "NotFound"
  /** Redirects lead back to a URL already visited, or go on too long. */
  | "RedirectLoop"
  /** The server stopped sending (no byte for the timeout). */
  | "Timeout"
  /** The download stopped in the middle; what arrived is kept and the next attempt resumes. */
  | "DownloadInterrupted"
  /** The catalog or box server cannot be reached, or answered with another HTTP error. */
  | "Unreachable";

/** Reasons no retry fixes until the spec or the server's content changes. */
const TERMINAL: ReadonlySet<BoxFaultReason> = new Set([
  "CatalogNotJson",
  "NoLibvirtProvider",
  "NoMatchingVersion",
  "ChecksumMismatch",
  "NotFound",
  "RedirectLoop",
]);

/** A catalog lookup or box download failed: the reason and the URL say which, and where. */
export class BoxFetchError extends Error {
  constructor(
    readonly reason: BoxFaultReason,
    readonly url: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BoxFetchError";
  }

  /** Whether retrying the same request cannot help (the answer was definite). */
  get terminal(): boolean {
    return TERMINAL.has(this.reason);
  }
}
