/**
 * Rules of `spec.cloudInit`: userData is a mapping or text, networkConfig is a mapping. (#cloud-config text
 * is read as YAML where manifests are: manifest/user_data_text.ts.)
 *
 * @module
 */
import type { Loose } from "./loose.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainCloudInit } from "./types.ts";

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
  if (networkConfig !== undefined && !isMapping(networkConfig)) {
    r.report([...path, "networkConfig"], {
      message: "must be a mapping (network-config version 1 or 2)",
      value: networkConfig,
    });
  }
}
