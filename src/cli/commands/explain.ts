/** lv explain KIND[.FIELD] and lv schema [KIND]: the field table, as text and as JSON Schema. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const explainCommand = defineCommand({
  name: "explain",
  summary: "document a kind or field",
  synopsis: ["KIND[.FIELD]"],
  usage: ["explain KIND[.field.path] [--recursive]"],
  description: "Documents a kind or one of its fields: type, default, description and child fields.",
  args: [{ name: "KIND[.field.path]", kind: "field" }],
  flags: {
    recursive: {
      type: "boolean",
      description: "list every nested field, indented, not only the direct ones",
    },
  },
  examples: ["lv explain domain.spec.interfaces", "lv explain network --recursive"],
  async run({ flags, args, output }) {
    const { explain } = await import("../../api/schema.ts");
    if (args.length !== 1) {
      throw new UsageError("explain takes one KIND[.field.path]", "e.g. lv explain domain.spec.interfaces");
    }
    try {
      output.out(explain(args[0], { recursive: flags.recursive }));
    } catch (e) {
      throw new UsageError((e as Error).message, `lv explain ${args[0].split(".")[0]} lists its fields`);
    }
  },
});

export const schemaCommand = defineCommand({
  name: "schema",
  summary: "print the JSON Schema of the resources",
  synopsis: ["[KIND]"],
  usage: ["schema [KIND]"],
  description: `Prints the JSON Schema (draft 2020-12) of one kind or, without KIND, the schema of a whole
manifest file: each document one of the kinds (oneOf, by kind). The repository keeps that one in
schemas/lv.schema.json for editors: start a file with
  # yaml-language-server: $schema=../schemas/lv.schema.json
(a path relative to the file, or the file's URL) and yaml-language-server (VS Code's YAML extension, Neovim,
Helix) completes and checks every field.`,
  args: [{ name: "KIND", kind: "kind", optional: true }],
  flags: {},
  examples: ["lv schema > schemas/lv.schema.json", "lv schema domain > domain.schema.json"],
  async run({ args, output }) {
    const { jsonSchema } = await import("../../api/schema.ts");
    const { manifestSchema } = await import("../../api/manifest_schema.ts");
    const schema = args[0] ? jsonSchema(args[0]) : manifestSchema();
    output.out(JSON.stringify(schema, null, 2) + "\n");
  },
});
