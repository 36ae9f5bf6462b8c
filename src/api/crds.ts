/**
 * lv's kinds as Kubernetes CustomResourceDefinitions (apiextensions.k8s.io/v1), made from the field table's
 * JSON Schema (schema.ts) and turned into a structural schema as the API server requires: every node has a
 * type, value validations (anyOf, oneOf, not) carry no types or descriptions, a number-or-quantity is
 * x-kubernetes-int-or-string, JSON Schema keywords Kubernetes lacks (propertyNames, $schema) are left out,
 * and status is kept as the controllers write it.
 */
import { jsonSchema } from "./schema.ts";
import { API_VERSION, type Kind, KINDS } from "./types.ts";

type Json = Record<string, unknown>;

const PLURALS: Record<Kind, string> = {
  Box: "boxes",
  Volume: "volumes",
  Network: "networks",
  Domain: "domains",
};
const SHORT_NAMES: Record<Kind, string[]> = {
  Box: [],
  Volume: ["vol"],
  Network: ["net"],
  Domain: ["dom", "vm"],
};
/** What a value validation may hold in a structural schema. */
const VALIDATION_ONLY = [
  "required",
  "properties",
  "items",
  "enum",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
];

function isIntOrString(branches: Json[]): boolean {
  const types = branches.map((b) => b.type).sort();
  return types.length === 2 && types[0] === "integer" && types[1] === "string";
}

/** Keeps only what a value validation may say (no type, description or default). */
function validationOnly(node: Json): Json {
  const out: Json = {};
  for (const key of VALIDATION_ONLY) if (key in node) out[key] = node[key];
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Json>).map(([k, v]) => [k, validationOnly(v)]),
    );
  }
  return out;
}

/** One JSON Schema node as a structural OpenAPI v3 schema node. */
export function structural(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "$id" || key === "title" || key === "propertyNames") continue;
    if (key === "anyOf" || key === "oneOf") {
      const branches = value as Json[];
      if (isIntOrString(branches)) out["x-kubernetes-int-or-string"] = true;
      else out[key] = branches.map(validationOnly);
    } else if (key === "not") {
      out.not = validationOnly(value as Json);
    } else if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Json>).map(([k, v]) => [k, structural(v)]),
      );
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = structural(value as Json);
    } else out[key] = value;
  }
  if (out.type === undefined && !out["x-kubernetes-int-or-string"]) {
    out.type = out.properties ? "object" : "string";
  }
  return out;
}

/** The CustomResourceDefinition serving `kind` under lv.dev/v1alpha1. */
export function crd(kind: Kind): Json {
  const [group, version] = API_VERSION.split("/");
  const schema = structural(jsonSchema(kind));
  const properties = schema.properties as Json;
  // metadata belongs to the API server; status is written by the controllers, as they write it.
  properties.metadata = { type: "object" };
  properties.status = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURALS[kind]}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: {
        kind,
        plural: PLURALS[kind],
        singular: kind.toLowerCase(),
        ...(SHORT_NAMES[kind].length ? { shortNames: SHORT_NAMES[kind] } : {}),
      },
      versions: [{
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: schema },
      }],
    },
  };
}

/** Every kind's CRD. */
export function crds(): Json[] {
  return KINDS.map(crd);
}
