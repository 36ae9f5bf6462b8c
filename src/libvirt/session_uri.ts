/** Whether a libvirt URI is a rootless session (the user's own libvirtd; QEMU runs as the user; no libvirt networks). */
export function isSessionUri(uri: string): boolean {
  return /^qemu(\+\w+)?:\/\/[^/]*\/session/.test(uri);
}
