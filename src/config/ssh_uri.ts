/** What a libvirt URI says about where libvirt is (no ssh machinery loaded: every command asks). */

/** Whether a URI reaches libvirt through ssh. */
export function isSshUri(uri: string): boolean {
  return /^[a-z0-9]+\+ssh:\/\//i.test(uri);
}

/** Whether a URI names another machine (preflight checks, error hints). */
export function isRemoteUri(uri: string): boolean {
  try {
    return new URL(uri).hostname !== "";
  } catch {
    return false;
  }
}
