/**
 * The spec fields behind differences between a running domain and its persistent definition
 * (`domainDiff` paths such as `memoryMiB` or `disks[vdb]`), for the RestartRequired condition: it names
 * what the user changed, in the words of the field table (`spec.memory`), not libvirt's XML.
 */

const XML_TO_SPEC: [RegExp, string][] = [
  [/^(memoryMiB|currentMemoryMiB)$/, "spec.memory"],
  [/^(vcpus|maxVcpus)$/, "spec.cpus"],
  [/^type$/, "spec.driver"],
  [/^(cpuMode|cpuModel)/, "spec.nested"],
  [/^disks/, "spec.disks"],
  [/^interfaces/, "spec.interfaces"],
  [/^filesystems/, "spec.syncedFolders"],
  [/^memoryBacking/, "spec.memoryBacking"],
];

/** Spec field paths for `domainDiff` paths, each once, in order; unknown paths are kept as they are. */
export function restartFields(xmlPaths: readonly string[]): string[] {
  const out = xmlPaths.map((p) => XML_TO_SPEC.find(([re]) => re.test(p))?.[1] ?? p);
  return [...new Set(out)];
}

/** The RestartRequired message for a domain. */
export function restartMessage(name: string, xmlPaths: readonly string[]): string {
  const fields = restartFields(xmlPaths);
  return `${fields.join(", ")} ${fields.length === 1 ? "takes" : "take"} effect at the next boot ` +
    `(lv reload ${name}, or lv apply --restart)`;
}
