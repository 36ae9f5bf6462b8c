/** Host paths a manifest promises: checked on this host after absolutize, each problem at its file:line. */
import { joinPath as join } from "../api/posix_path.ts";
import { type Problem, problemAt } from "../api/problem.ts";
import type { AnyResource, Provisioner } from "../api/types.ts";

/** The host paths a provisioner reads, by field: each must exist when applied. */
function provisionerPaths(p: Provisioner): [string, string | undefined][] {
  switch (p.type) {
    case "file":
      return [["source", p.source]];
    case "ansible":
      return [["playbook", p.playbook]];
    case "puppet":
      return [
        ["manifestsPath", p.manifestsPath],
        ["manifestFile", p.manifestsPath && join(p.manifestsPath, p.manifestFile)],
        ["modulePath", p.modulePath],
      ];
    case "salt":
      return [["statesPath", p.statesPath], ["minionConfig", p.minionConfig]];
    default:
      return [];
  }
}

/**
 * A problem for each host path a provisioner reads that does not exist on this host (file `source`, ansible
 * `playbook`, puppet `manifestsPath`, its `manifestFile` and `modulePath`, salt `statesPath` and
 * `minionConfig`).
 */
export async function hostPathProblems(obj: AnyResource): Promise<Problem[]> {
  if (obj.kind !== "Domain") return [];
  const problems: Problem[] = [];
  for (const [i, p] of obj.spec.provision.entries()) {
    for (const [field, hostPath] of provisionerPaths(p)) {
      if (hostPath === undefined) continue;
      try {
        await Deno.stat(hostPath);
      } catch (e) {
        problems.push(problemAt(obj, ["spec", "provision", i, field], {
          message: e instanceof Deno.errors.NotFound
            ? "does not exist on this host"
            : `cannot be read on this host: ${(e as Error).message}`,
          value: hostPath,
        }));
      }
    }
  }
  return problems;
}
