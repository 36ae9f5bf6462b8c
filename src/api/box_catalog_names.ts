/**
 * Which Box sources name a Vagrant catalog entry rather than a file: `USER/NAME` (as Vagrant reads
 * `config.vm.box`) and the http(s) URL of a box metadata JSON file.
 */

/** `USER/NAME` with no scheme: a catalog name, as Vagrant reads `config.vm.box`. */
export function isCatalogName(source: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*\/[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(source);
}

/** An http(s) URL of a metadata JSON file (a self-hosted catalog): its path ends in `.json`. */
export function isMetadataUrl(source: string): boolean {
  if (!/^https?:\/\//i.test(source)) return false;
  try {
    return new URL(source).pathname.toLowerCase().endsWith(".json");
  } catch {
    return false;
  }
}
