import assert from "node:assert/strict";
import { crd, crds } from "../../src/api/crds.ts";
import { KINDS } from "../../src/api/types.ts";
import { jsonSchema } from "../../src/api/schema.ts";

type Json = Record<string, unknown>;

/** Kubernetes' structural schema rules (apiextensions v1), as the API server checks them; problems by path. */
function structuralProblems(node: Json, path: string, inValidation = false): string[] {
  const problems: string[] = [];
  for (const key of ["$schema", "$id", "$ref", "propertyNames", "title"]) {
    if (key in node) problems.push(`${path}: ${key} is not allowed`);
  }
  if (inValidation) {
    for (const key of ["type", "description", "default", "nullable", "additionalProperties"]) {
      if (key in node) problems.push(`${path}: ${key} inside a value validation`);
    }
  } else if (
    !node.type && !node["x-kubernetes-int-or-string"] && !node["x-kubernetes-preserve-unknown-fields"]
  ) {
    problems.push(`${path}: no type`);
  }
  if (node.properties && node.additionalProperties) {
    problems.push(`${path}: properties and additionalProperties`);
  }
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Json>)) {
    problems.push(...structuralProblems(v, `${path}.${k}`, inValidation));
  }
  if (node.items) problems.push(...structuralProblems(node.items as Json, `${path}[]`, inValidation));
  if (typeof node.additionalProperties === "object") {
    problems.push(...structuralProblems(node.additionalProperties as Json, `${path}{}`, inValidation));
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const [i, b] of ((node[key] ?? []) as Json[]).entries()) {
      problems.push(...structuralProblems(b, `${path}.${key}[${i}]`, true));
    }
  }
  if (node.not) problems.push(...structuralProblems(node.not as Json, `${path}.not`, true));
  return problems;
}

Deno.test("crds(): one CRD per kind under lv.dev, namespaced, with the status subresource", () => {
  const all = crds();
  assert.deepEqual(all.map((c) => (c.metadata as Json).name), [
    "boxes.lv.dev",
    "volumes.lv.dev",
    "networks.lv.dev",
    "domains.lv.dev",
  ]);
  const domain = crd("Domain") as { spec: { names: Json; scope: string; versions: Json[] } };
  assert.deepEqual(domain.spec.names, {
    kind: "Domain",
    plural: "domains",
    singular: "domain",
    shortNames: ["dom", "vm"],
  });
  assert.equal(domain.spec.scope, "Namespaced");
  assert.deepEqual(domain.spec.versions[0].subresources, { status: {} });
  assert.equal(domain.spec.versions[0].name, "v1alpha1");
});

Deno.test("crd() schemas are structural (the API server's rules), sizes are int-or-string", async (t) => {
  for (const kind of KINDS) {
    await t.step(kind, () => {
      const version = ((crd(kind).spec as Json).versions as Json[])[0];
      const schema = (version.schema as Json).openAPIV3Schema as Json;
      assert.deepEqual(structuralProblems(schema, kind), []);
      const spec = (schema.properties as Record<string, Json>).spec;
      assert.equal(spec.type, "object");
      assert.ok(Object.keys(spec.properties as Json).length > 0);
    });
  }
  // The checker finds what the raw JSON Schema has that Kubernetes refuses.
  const raw = structuralProblems(jsonSchema("Domain"), "Domain");
  assert.ok(raw.includes("Domain: $schema is not allowed"), raw.join("\n"));
  assert.ok(
    raw.some((p) => /spec\.memory\.anyOf\[0\]: type inside a value validation/.test(p)),
    raw.join("\n"),
  );
  const memory = (((crd("Domain").spec as Json).versions as Json[])[0].schema as Json)
    .openAPIV3Schema as Json;
  const field = ((memory.properties as Record<string, Json>).spec.properties as Record<string, Json>).memory;
  assert.equal(field["x-kubernetes-int-or-string"], true);
  assert.equal(field.anyOf, undefined);
});
