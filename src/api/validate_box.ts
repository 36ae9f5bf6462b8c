/**
 * Rules of a Box that relate its fields: a version constraint needs a catalog source (USER/NAME, or an
 * http(s) URL, which a version makes a metadata JSON URL).
 *
 * @module
 */

import { isCatalogName } from "./box_catalog_names.ts";
import type { ProblemCollector } from "./problem.ts";
import type { Box } from "./types.ts";
import type { Loose } from "./loose.ts";

/** Checks a walked Box (fields that failed their own checks are absent). */
export function checkBox(box: Loose<Box>, r: ProblemCollector): void {
  const spec = box.spec;
  if (spec?.version === undefined || spec.source === undefined) return;
  if (!isCatalogName(spec.source) && !/^https?:\/\//i.test(spec.source)) {
    r.report(["spec", "version"], {
      message:
        "needs a catalog source: a Vagrant box name USER/NAME or the http(s) URL of a box metadata JSON file (a local .box or image has one version)",
      value: spec.version,
    });
  }
}
