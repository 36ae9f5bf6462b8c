import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import {
  explain,
  ExplainError,
  type Field,
  jsonSchema,
  kindFromName,
  METADATA,
  RESOURCE_FIELDS,
} from "../../src/api/schema.ts";
import { KINDS } from "../../src/api/types.ts";
import { validateResource } from "../../src/api/validate.ts";
import { SCHEMA_PROBLEMS } from "./schema_problems.ts";

// ---------------------------------------------------------------- a small JSON Schema checker

type Schema = Record<string, unknown>;

/** Checks `value` against the JSON Schema keywords jsonSchema() uses; returns the failing paths. */
function schemaErrors(schema: Schema, value: unknown, path = "$"): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (schema.type !== undefined) {
    const ok = schema.type === "integer"
      ? Number.isInteger(value)
      : schema.type === "object"
      ? isObject(value)
      : schema.type === "array"
      ? Array.isArray(value)
      : (typeof value as string) === schema.type;
    if (!ok) return [`${path}: not ${schema.type}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) fail("not in enum");
  if (typeof value === "string") {
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) fail("pattern");
    if (typeof schema.minLength === "number" && [...value].length < schema.minLength) fail("minLength");
    if (typeof schema.maxLength === "number" && [...value].length > schema.maxLength) fail("maxLength");
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) fail("minimum");
    if (typeof schema.maximum === "number" && value > schema.maximum) fail("maximum");
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) if (!(name in value)) fail(`missing ${name}`);
    for (const [k, v] of Object.entries(value)) {
      if (properties[k]) errors.push(...schemaErrors(properties[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) fail(`unknown ${k}`);
      else if (isObject(schema.additionalProperties)) {
        errors.push(...schemaErrors(schema.additionalProperties as Schema, v, `${path}.${k}`));
      }
      if (isObject(schema.propertyNames)) {
        errors.push(...schemaErrors(schema.propertyNames as Schema, k, `${path}[key ${k}]`));
      }
    }
  }
  if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, i) => errors.push(...schemaErrors(schema.items as Schema, item, `${path}[${i}]`)));
  }
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => schemaErrors(s, value, path).length === 0)) {
    fail("anyOf");
  }
  if (
    Array.isArray(schema.oneOf) &&
    schema.oneOf.filter((s) => schemaErrors(s, value, path).length === 0).length !== 1
  ) {
    fail("oneOf");
  }
  if (Array.isArray(schema.allOf)) {
    for (const s of schema.allOf) errors.push(...schemaErrors(s, value, path));
  }
  if (isObject(schema.not) && schemaErrors(schema.not as Schema, value, path).length === 0) fail("not");
  return errors;
}

function documents(text: string): unknown[] {
  return parseAllDocuments(text).flatMap((d) => {
    if (d.errors.length > 0 || d.contents === null) return [];
    try {
      return [d.toJS({ maxAliasCount: 100 })];
    } catch {
      return []; // the alias bomb
    }
  });
}

const GOOD = `
apiVersion: lv.dev/v1alpha1
kind: Box
metadata: {name: debian12, labels: {os: debian}}
spec: {source: "https://example.com/debian12.box", checksum: "sha256:${"ab".repeat(32)}"}
---
apiVersion: lv.dev/v1alpha1
kind: Volume
metadata: {name: data}
spec: {size: 10Gi, format: raw}
---
apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lab}
spec:
  mode: route
  bridge: virbr9
  ipv4: {address: 10.20.30.1, netmask: 255.255.255.0}
  dhcp:
    range: {start: 10.20.30.100, end: 10.20.30.200}
    hosts: [{mac: "52:54:00:00:00:01", ip: 10.20.30.10, name: web}]
  forwardDevice: eth0
  domainName: lab.example
  autostart: false
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web, annotations: {note: "any text <here>"}}
spec:
  box: debian12
  driver: kvm
  cpus: 2
  memory: 1024
  disks: [{volume: data, device: vdb, bus: virtio, cache: none}]
  interfaces:
    - {network: lab, mac: "52:54:00:00:00:01", ip: 10.20.30.10, prefix: 24}
    - {dev: eth0, mode: bridge}
  hostname: web
  ssh: {user: vagrant, port: 22, privateKey: ~/.ssh/id, forwardAgent: true}
  provision: [{inline: "echo hi", env: {A: "1"}, args: [x]}]
  syncedFolders: [{source: ., target: /vagrant, exclude: [.git]}]
  state: Running
  machineVirtualSize: 40Gi
status: {phase: Ready}
`;

Deno.test("jsonSchema() describes each kind in draft 2020-12", () => {
  for (const kind of KINDS) {
    const schema = jsonSchema(kind);
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.title, kind);
    assert.deepEqual(schema.required, ["apiVersion", "kind", "metadata"]);
    assert.equal(schema.additionalProperties, false);
  }
  assert.deepEqual(jsonSchema("domains"), jsonSchema("Domain"));
  assert.throws(() => jsonSchema("pod"), ExplainError);
});

Deno.test("jsonSchema() accepts what the validator accepts", () => {
  const inputs = documents(GOOD);
  for (const file of Deno.readDirSync(new URL("../bad/", import.meta.url))) {
    inputs.push(...documents(Deno.readTextFileSync(new URL(`../bad/${file.name}`, import.meta.url))));
  }
  let checked = 0;
  for (const input of inputs) {
    const { resource } = validateResource(input);
    if (resource === undefined) continue;
    checked++;
    assert.deepEqual(schemaErrors(jsonSchema(resource.kind), input), [], JSON.stringify(input));
  }
  assert.ok(checked > 30, `only ${checked} valid documents`);
});

Deno.test("jsonSchema() rejects the corpus files whose mistake a schema can express", async (t) => {
  for (const name of SCHEMA_PROBLEMS) {
    await t.step(name, () => {
      const text = Deno.readTextFileSync(new URL(`../bad/${name}.yaml`, import.meta.url));
      const docs = documents(text) as Record<string, unknown>[];
      const rejected = docs.some((doc) => {
        const kind = kindFromName(String(doc.kind)) ?? "Domain";
        return schemaErrors(jsonSchema(kind), doc).length > 0;
      });
      assert.ok(rejected);
    });
  }
});

// ---------------------------------------------------------------- the table

function eachField(field: Field, path: string, visit: (field: Field, path: string) => void): void {
  visit(field, path);
  if (field.type === "object") {
    for (const [n, f] of Object.entries(field.fields)) eachField(f, `${path}.${n}`, visit);
  }
  if (field.type === "array") eachField(field.items, `${path}[]`, visit);
  if (field.type === "map") eachField(field.values, `${path}{}`, visit);
}

Deno.test("every field in the table is documented", () => {
  for (const kind of KINDS) {
    eachField(RESOURCE_FIELDS[kind], kind, (field, path) => {
      assert.ok(field.description.trim().length >= 5, `${path} has no description`);
      assert.ok(/[.)]$/.test(field.description.trim()), `${path}: description should be a sentence`);
      assert.ok(!(field.required && field.default !== undefined), `${path} is required and has a default`);
    });
  }
});

Deno.test("metadata accepts exactly the fields of ObjectMeta", () => {
  assert.deepEqual(Object.keys(METADATA.type === "object" ? METADATA.fields : {}), [
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "generation",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "finalizers",
    "ownerReferences",
  ]);
});

// ---------------------------------------------------------------- explain

Deno.test("explain() documents a field like kubectl explain", async (t) => {
  await t.assertSnapshot(explain("domain.spec.interfaces"), { serializer: String });
});

Deno.test("explain() documents a whole kind, recursively on request", async (t) => {
  await t.assertSnapshot(explain("Network", { recursive: true }), { serializer: String });
});

Deno.test("explain() accepts kinds in any case, singular or plural", () => {
  for (const name of ["domain", "Domain", "DOMAINS", "domains"]) {
    assert.ok(explain(name).startsWith("KIND:     Domain\n"));
  }
  assert.ok(explain("boxes.spec.source").includes("FIELD:    source <string> -required-"));
  assert.ok(explain("volume.spec.size").includes("FIELD:    size <integer or quantity>"));
  assert.ok(explain("domain.spec.memory").includes("Default: 512."));
  assert.ok(explain("domain.spec.volumeCache").includes("vagrant-libvirt: volume_cache."));
});

Deno.test("explain() lists every field of every object it shows", () => {
  for (const kind of KINDS) {
    eachField(RESOURCE_FIELDS[kind], kind, (field, path) => {
      const fields = field.type === "object"
        ? field.fields
        : field.type === "array" && field.items.type === "object"
        ? field.items.fields
        : undefined;
      if (fields === undefined || path.includes("{}")) return;
      const text = explain(path.replaceAll("[]", ""));
      for (const name of Object.keys(fields)) {
        assert.ok(text.includes(`\n  ${name}\t<`), `${path}: ${name} missing`);
      }
    });
  }
});

Deno.test("explain() says what does not exist, with a suggestion", async (t) => {
  const cases: [string, string][] = [
    ["pod", 'unknown kind "pod"; lv has Box, Volume, Network, Domain'],
    ["domian", 'unknown kind "domian"; lv has Box, Volume, Network, Domain (did you mean "domain"?)'],
    ["domain.spec.memroy", 'field "memroy" does not exist in Domain.spec (did you mean "memory"?)'],
    ["domain.spec.cpus.x", 'Domain.spec.cpus is of type integer and has no field "x"'],
  ];
  for (const [path, message] of cases) {
    await t.step(path, () => assert.throws(() => explain(path), { name: "ExplainError", message }));
  }
});

Deno.test("explain() gives every machine and device field (issue 14) its default, vagrant-libvirt name and change class", async (t) => {
  const fields = [
    "machineType",
    "firmware",
    "secureBoot",
    "cpu",
    "cpu.mode",
    "cpu.model",
    "cpu.sockets",
    "cpu.cores",
    "cpu.threads",
    "cpu.features",
    "cpu.features.name",
    "cpu.features.policy",
    "memoryBacking",
    "memoryBacking.access",
    "memoryBacking.source",
    "bootOrder",
    "graphics",
    "graphics.type",
    "graphics.listen",
    "graphics.port",
    "graphics.passwordFile",
    "video",
    "video.model",
    "video.vram",
    "cdroms",
    "cdroms.path",
    "cdroms.volume",
    "cdroms.bus",
    "cdroms.device",
    "disks.io",
    "disks.discard",
    "disks.detectZeroes",
    "disks.serial",
    "tpm",
    "tpm.model",
    "tpm.version",
    "rng",
    "rng.enabled",
    "rng.backend",
    "watchdog",
    "watchdog.model",
    "watchdog.action",
    "inputs",
    "inputs.type",
    "inputs.bus",
    "hostDevices",
    "hostDevices.type",
    "hostDevices.vendor",
    "hostDevices.product",
    "hostDevices.address",
    "managementNetwork",
    "interfaces.libvirtNetwork",
    "interfaces.bridge",
  ];
  for (const field of fields) {
    await t.step(field, () => {
      const text = explain(`domain.spec.${field}`).split("DESCRIPTION:")[1].split("FIELDS:")[0].replace(
        /\s+/g,
        " ",
      );
      for (const fact of ["Default: ", "vagrant-libvirt: ", "Change: "]) {
        assert.ok(text.includes(fact), `${field} has no "${fact.trim()}": ${text}`);
      }
      assert.equal(text.split("Default: ").length, 2, `${field} states its default once: ${text}`);
    });
  }
});
