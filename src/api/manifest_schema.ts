/**
 * One JSON Schema for a whole lv manifest file: each YAML document is one of the kinds (`oneOf`, told apart
 * by `kind`). `lv schema` prints it; schemas/lv.schema.json is the same, for editors (yaml-language-server:
 * `# yaml-language-server: $schema=../schemas/lv.schema.json` at the top of a file).
 */
import { jsonSchema } from "./schema.ts";
import { KINDS } from "./types.ts";

/** Where the checked-in copy lives, relative to the repository root. */
export const SCHEMA_FILE = "schemas/lv.schema.json";

export function manifestSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const kind of KINDS) {
    const { $schema: _s, $id: _i, ...schema } = jsonSchema(kind);
    defs[kind] = schema;
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://lv.dev/schemas/v1alpha1/lv.json",
    title: "lv manifest",
    description: `One document of an lv manifest: a ${KINDS.join(", ")} (apiVersion lv.dev/v1alpha1).`,
    oneOf: KINDS.map((kind) => ({ $ref: `#/$defs/${kind}` })),
    $defs: defs,
  };
}
