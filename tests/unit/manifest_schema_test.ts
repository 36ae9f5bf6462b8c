/**
 * The schema editors use (lv schema, schemas/lv.schema.json) checked by a real validator, ajv: every example
 * passes it document by document, every tests/bad file whose mistake a schema can express fails it, and
 * every example names it in a yaml-language-server modeline.
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseAllDocuments } from "yaml";
import { manifestSchema, SCHEMA_FILE } from "../../src/api/manifest_schema.ts";
import { lv } from "./cli_run.ts";
import { EXAMPLES_DIR } from "./harness.ts";
import { SCHEMA_PROBLEMS } from "./schema_problems.ts";

const ROOT = new URL("../../", import.meta.url);
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(manifestSchema());

function documents(path: string | URL): unknown[] {
  return parseAllDocuments(Deno.readTextFileSync(path)).map((d) => d.toJS()).filter((d) => d != null);
}

Deno.test("lv schema prints the checked-in schemas/lv.schema.json (deno task schema)", async () => {
  const r = await lv("schema");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, Deno.readTextFileSync(new URL(SCHEMA_FILE, ROOT)));
  assert.deepEqual(JSON.parse(r.stdout), manifestSchema());
});

Deno.test("every example passes the schema and names it in a yaml-language-server modeline", () => {
  const examples = [...Deno.readDirSync(EXAMPLES_DIR)].filter((e) => e.name.endsWith(".yaml"));
  assert.ok(examples.length >= 3);
  for (const { name } of examples) {
    const path = `${EXAMPLES_DIR}/${name}`;
    assert.match(
      Deno.readTextFileSync(path),
      /^# yaml-language-server: \$schema=\.\.\/schemas\/lv\.schema\.json\n/,
      name,
    );
    for (const doc of documents(path)) {
      assert.ok(validate(doc), `${name}: ${JSON.stringify(validate.errors)}`);
    }
  }
});

Deno.test("every tests/bad file whose mistake a schema can express fails the schema", async (t) => {
  for (const name of SCHEMA_PROBLEMS) {
    await t.step(name, () => {
      const docs = documents(new URL(`tests/bad/${name}.yaml`, ROOT));
      assert.ok(docs.some((doc) => !validate(doc)), `${name} passes the schema`);
    });
  }
});

Deno.test("a document of no known kind fails; each kind is told apart by kind", () => {
  assert.equal(validate({ apiVersion: "lv.dev/v1alpha1", kind: "Pod", metadata: { name: "x" } }), false);
  const net = documents(`${EXAMPLES_DIR}/basic.yaml`).find((d) => (d as { kind: string }).kind === "Network");
  assert.ok(validate(net));
  assert.equal(validate({ ...net as object, kind: "Volume" }), false);
});
