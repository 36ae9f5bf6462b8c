/** Box.spec.version: a Vagrant constraint, only with a catalog source; mistakes name file:line:col. */
import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Box } from "../../src/api/types.ts";
import { parseManifests } from "../../src/manifest/parse.ts";

function box(source: string, version: string): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: debian
spec:
  source: ${source}
  version: "${version}"
`;
}

Deno.test("Box.spec.version takes Vagrant constraints with a catalog name or metadata URL", () => {
  for (
    const [source, version] of [
      ["generic/debian12", "~> 4.3"],
      ["generic/debian12", ">= 4.0, < 5.0"],
      ["https://boxes.example.test/debian.json", "1.2.3"],
      ["https://boxes.example.test/catalog/debian", ">= 1"],
    ]
  ) {
    const { resources, problems } = parseManifests(box(source, version), "box.yaml");
    assert.deepEqual(problems.map(formatProblem), []);
    assert.equal((resources[0] as Box).spec.version, version);
    assert.equal((resources[0] as Box).spec.source, source);
  }
});

Deno.test("Box.spec.version that does not parse is a validation error at file:line:col", () => {
  const { problems } = parseManifests(box("generic/debian12", ">= 4.x"), "box.yaml");
  assert.deepEqual(problems.map(formatProblem), [
    'box.yaml:7:12: spec.version: must be a Vagrant version constraint: ">= 4.x" is not a version requirement: an optional operator (=, !=, >, >=, <, <=, ~>) and a version of one to three numbers such as 4.3.12; got ">= 4.x"',
  ]);
});

Deno.test("Box.spec.version with a .box or image source is refused: it has one version", () => {
  const { problems } = parseManifests(box("/boxes/debian.box", "1.0"), "box.yaml");
  assert.equal(problems.length, 1);
  assert.match(formatProblem(problems[0]), /^box\.yaml:7:12: spec\.version: needs a catalog source/);
});
