/** Host paths a manifest promises: checked on this host after absolutize, each problem at its file:line. */
import { type Problem, problemAt } from "../api/problem.ts";
import type { AnyResource } from "../api/types.ts";

/** A problem for each file provisioner `source` and ansible `playbook` that does not exist on this host. */
export async function hostPathProblems(obj: AnyResource): Promise<Problem[]> {
  if (obj.kind !== "Domain") return [];
  const problems: Problem[] = [];
  for (const [i, p] of obj.spec.provision.entries()) {
    const [field, hostPath] = p.type === "file"
      ? ["source", p.source]
      : p.type === "ansible"
      ? ["playbook", p.playbook]
      : [];
    if (field === undefined) continue;
    try {
      await Deno.stat(hostPath!);
    } catch (e) {
      problems.push(problemAt(obj, ["spec", "provision", i, field], {
        message: e instanceof Deno.errors.NotFound
          ? "does not exist on this host"
          : `cannot be read on this host: ${(e as Error).message}`,
        value: hostPath,
      }));
    }
  }
  return problems;
}
