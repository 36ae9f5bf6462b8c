/**
 * Rules of `spec.cloudInit`: userData is a mapping or text (#cloud-config text must be a YAML mapping, its
 * problems placed at their line inside the manifest), networkConfig is a mapping.
 *
 * @module
 */
import { userDataProblems } from "../cloud_init/user_data_text.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainCloudInit } from "./types.ts";
import type { Loose } from "./validate.ts";

const isMapping = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks a walked spec.cloudInit. */
export function checkCloudInit(cloudInit: Loose<DomainCloudInit> | undefined, r: ProblemCollector): void {
  if (cloudInit === undefined) return;
  const path: PathSegment[] = ["spec", "cloudInit"];
  const { userData, networkConfig } = cloudInit as DomainCloudInit;
  if (userData !== undefined && typeof userData !== "string" && !isMapping(userData)) {
    r.report([...path, "userData"], {
      message:
        "must be a mapping (cloud-config merged with lv's) or text (the whole user-data, or a file path)",
      value: userData,
    });
  }
  if (typeof userData === "string") {
    const node = r.positions?.get([...path, "userData"]);
    for (const p of userDataProblems(userData)) {
      // A multi-line string is a block scalar (`userData: |`): its text starts on the line after the key,
      // indented past it.
      const indent = node ? (node.key?.column ?? node.column) + 1 : 0;
      r.problems.push({
        file: r.file,
        line: node ? node.line + p.line : 0,
        column: node ? indent + p.column : 0,
        path: "spec.cloudInit.userData",
        message: p.message,
      });
    }
  }
  if (networkConfig !== undefined && !isMapping(networkConfig)) {
    r.report([...path, "networkConfig"], {
      message: "must be a mapping (network-config version 1 or 2)",
      value: networkConfig,
    });
  }
}
