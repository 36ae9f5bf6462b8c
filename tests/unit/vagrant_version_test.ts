/** vagrant_version.ts evaluates the ranges it builds as npm's semver does (semver is the reference here). */
import assert from "node:assert/strict";
// @deno-types="@types/semver"
import semver from "semver";
import { newestFirst, parseVersionConstraint, versionSatisfies } from "../../src/api/vagrant_version.ts";

const VERSIONS = [
  "0",
  "1",
  "1.0",
  "1.0.1",
  "1.2",
  "1.2.3",
  "1.3",
  "2",
  "2.0.0",
  "4.3",
  "4.3.1",
  "4.3.12",
  "4.4",
  "5",
];
const CONSTRAINTS = [
  "1.2.3",
  "= 1.2",
  "!= 4.3.1",
  ">= 4.0, < 5.0",
  "> 1, <= 4.3.1",
  "~> 4.3",
  "~> 4.3.1",
  "~> 4",
  "!= 1, != 2, >= 1",
  ">= 1.2, != 1.3, ~> 1.2",
];

Deno.test("versionSatisfies() agrees with semver.satisfies on the ranges parseVersionConstraint() builds", () => {
  for (const text of CONSTRAINTS) {
    const parsed = parseVersionConstraint(text);
    assert.ok(parsed.ok, text);
    assert.notEqual(semver.validRange(parsed.range), null, parsed.range);
    for (const v of VERSIONS) {
      const full = v.split(".").concat(["0", "0"]).slice(0, 3).map(Number).join(".");
      assert.equal(
        versionSatisfies(v, parsed.range),
        semver.satisfies(full, parsed.range),
        `${v} in ${text}`,
      );
    }
  }
});

Deno.test("newestFirst() orders as semver.rcompare, versions that do not parse last", () => {
  const sorted = [...VERSIONS, "latest", "1.x"].sort(newestFirst);
  const full = (v: string) => v.split(".").concat(["0", "0"]).slice(0, 3).join(".");
  const expected = [...VERSIONS].sort((a, b) => semver.rcompare(full(a), full(b)) || 0);
  assert.deepEqual(sorted.slice(0, VERSIONS.length).map(full), expected.map(full));
  assert.deepEqual(sorted.slice(VERSIONS.length), ["latest", "1.x"]);
});
