/**
 * Rules of Domain.spec.provision that depend on the type: shell takes one of inline and path (not both: the
 * schema's atMostOne); file
 * takes source and destination and none of shell's fields (whose defaults are dropped from it).
 *
 * @module
 */

import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainSpec } from "./types.ts";
import type { Loose } from "./loose.ts";

const SHELL_ONLY = ["inline", "path", "args", "env", "privileged"] as const;
const FILE_ONLY = ["source", "destination"] as const;

/** Checks each walked provisioner against its type. */
export function checkProvisioners(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  (spec.provision ?? []).forEach((entry, i) => {
    const p = entry as Record<string, unknown> | undefined;
    if (p === undefined || (p.type !== "shell" && p.type !== "file")) return; // the walk reported it
    const path: PathSegment[] = ["spec", "provision", i];
    const given = (name: string) => p[name] !== undefined;
    const misplaced = (name: string, type: string) =>
      r.report([...path, name], { message: `applies only to type: ${type}`, key: true });
    if (p.type === "file") {
      for (const name of ["source", "destination"]) {
        if (!given(name)) r.report([...path, name], { message: "is required for type: file", missing: true });
      }
      for (const name of ["inline", "path"]) if (given(name)) misplaced(name, "shell");
      if ((p.args as unknown[] | undefined)?.length) misplaced("args", "shell");
      if (Object.keys(p.env ?? {}).length > 0) misplaced("env", "shell");
      for (const name of SHELL_ONLY) delete p[name]; // the defaults walked in
      return;
    }
    for (const name of FILE_ONLY) if (given(name)) misplaced(name, "file");
    // Both given: the walk's atMostOne reported it.
    if (!given("inline") && !given("path")) {
      r.report(path, { message: "must have exactly one of inline or path" });
    }
  });
}
