/**
 * The spec fields behind differences between a running domain and its persistent definition
 * (`domainDiff` paths such as `memoryMiB` or `disks[vdb]`), for the RestartRequired condition: it names
 * what the user changed, in the words of the field table (`spec.memory`), not libvirt's XML.
 */

import type { DomainSpec } from "../../api/types.ts";

/** Which maximums the spec sets: `<memory>` and `<vcpu>` are spec.memory and spec.cpus when it sets none. */
export type SpecMaximums = Pick<DomainSpec, "maxMemory" | "maxVcpus">;

const XML_TO_SPEC: [RegExp, string | ((spec: SpecMaximums) => string)][] = [
  [/^memoryMiB$/, (spec) => spec.maxMemory !== undefined ? "spec.maxMemory" : "spec.memory"],
  [/^currentMemoryMiB$/, "spec.memory"],
  [/^maxVcpus$/, (spec) => spec.maxVcpus !== undefined ? "spec.maxVcpus" : "spec.cpus"],
  [/^vcpus$/, "spec.cpus"],
  [/^type$/, "spec.driver"],
  [/^(cpuMode|cpuModel)/, "spec.nested"],
  [/^disks/, "spec.disks"],
  [/^interfaces/, "spec.interfaces"],
];

/**
 * Spec field paths for `domainDiff` paths, each once, in order; unknown paths (and spec paths) are kept as
 * they are. `spec` tells whether `<memory>` and `<vcpu>` come from maxMemory and maxVcpus.
 */
export function restartFields(xmlPaths: readonly string[], spec: SpecMaximums = {}): string[] {
  const out = xmlPaths.map((p) => {
    const to = XML_TO_SPEC.find(([re]) => re.test(p))?.[1] ?? p;
    return typeof to === "string" ? to : to(spec);
  });
  return [...new Set(out)];
}

/** The RestartRequired message for a domain. */
export function restartMessage(name: string, xmlPaths: readonly string[]): string {
  const fields = restartFields(xmlPaths);
  return `${fields.join(", ")} ${fields.length === 1 ? "takes" : "take"} effect at the next boot ` +
    `(lv reload ${name}, or lv apply --restart)`;
}
