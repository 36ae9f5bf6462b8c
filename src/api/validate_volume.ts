/**
 * Rules of a Volume that relate its fields: a blank volume needs a size, an
 * overlay on a box is qcow2.
 *
 * @module
 */

import type { ProblemCollector } from "./problem.ts";
import type { Volume } from "./types.ts";
import type { Loose } from "./loose.ts";

/** Checks a walked Volume (fields that failed their own checks are absent). */
export function checkVolume(volume: Loose<Volume>, r: ProblemCollector): void {
  const spec = volume.spec;
  if (spec === undefined) return;
  const invalid = r.reported(["spec", "size"]) || r.reported(["spec", "backingBox"]);
  if (spec.backingBox === undefined && spec.size === undefined && !invalid) {
    r.report(["spec", "size"], {
      message: "is required for a blank volume (one without backingBox)",
      missing: true,
    });
  }
  if (spec.backingBoxDisk !== undefined && spec.backingBox === undefined && !invalid) {
    r.report(["spec", "backingBoxDisk"], {
      message: "needs backingBox (it picks a disk of the backing box)",
      value: spec.backingBoxDisk,
    });
  }
  if (spec.backingBox !== undefined && spec.format === "raw") {
    r.report(["spec", "format"], {
      message: "must be qcow2 for a copy-on-write overlay on a box (backingBox)",
      value: spec.format,
    });
  }
}
