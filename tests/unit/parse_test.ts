import assert from "node:assert/strict";
import { stringify } from "yaml";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain, Network } from "../../src/api/types.ts";
import { parseManifests } from "../../src/manifest/parse.ts";

const BOX = `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: debian12
spec:
  source: /boxes/debian12.box
`;

function problems(text: string, file = "m.yaml"): string[] {
  return parseManifests(text, file).problems.map(formatProblem);
}

Deno.test("parseManifests() skips empty documents and comment-only files", async (t) => {
  for (
    const text of [
      "",
      "\n\n",
      "# nothing here\n",
      "---\n---\n",
      "---\n# only a comment\n---\n",
      "~\n",
      "null\n",
    ]
  ) {
    await t.step(JSON.stringify(text), () => {
      assert.deepEqual(parseManifests(text, "empty.yaml"), { resources: [], problems: [] });
    });
  }
  await t.step("empty documents between resources", () => {
    const { resources, problems } = parseManifests(
      `---\n${BOX}---\n---\n${BOX.replace("debian12", "other")}---\n`,
      "m.yaml",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(resources.map((r) => r.metadata.name), ["debian12", "other"]);
  });
});

Deno.test("parseManifests() positions problems in later documents by their own lines", () => {
  const text = `${BOX}---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
spec:
  memory: 8
`;
  assert.deepEqual(problems(text), [
    "m.yaml:13:11: spec.memory: must be between 16Mi and 16Ti; got 8 (a plain number is in MiB)",
  ]);
});

Deno.test("parseManifests() keeps going after a document with a syntax error", () => {
  const text = `${BOX}---
apiVersion: lv.dev/v1alpha1
kind: Box
metadata: {name: broken
---
apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: BAD
spec: {source: /x}
`;
  const result = parseManifests(text, "m.yaml");
  assert.deepEqual(result.resources.map((r) => r.metadata.name), ["debian12"]);
  const lines = result.problems.map(formatProblem);
  assert.deepEqual(lines, [
    "m.yaml:11:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
    'm.yaml:15:9: metadata.name: must be a name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 63 characters; got "BAD" (did you mean "bad"?)',
  ]);
});

Deno.test("parseManifests() reports duplicate keys at the second key, with the path", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
  labels:
    app: a
    app: b
spec: {cpus: 1, cpus: 2}
`;
  assert.deepEqual(problems(text), [
    "m.yaml:7:5: metadata.labels.app: duplicate key; first given on line 6",
    "m.yaml:8:17: spec.cpus: duplicate key; first given on line 8",
  ]);
  assert.deepEqual(parseManifests(text, "m.yaml").resources, []);
});

Deno.test("parseManifests() supports anchors, aliases and merge keys", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
  labels: &labels {app: web}
spec:
  interfaces:
    - &nic {network: lab, model: e1000}
    - <<: *nic
      ip: 10.20.30.10
  provision:
    - inline: echo
      env: *labels
`;
  const { resources, problems } = parseManifests(text, "m.yaml", { references: "none" });
  assert.deepEqual(problems, []);
  const dom = resources[0] as Domain;
  assert.deepEqual(dom.spec.interfaces, [
    { network: "lab", model: "e1000" },
    { network: "lab", ip: "10.20.30.10", model: "e1000" },
  ]);
  assert.deepEqual(dom.spec.provision[0].env, { app: "web" });
  // the two objects built from one anchor are independent
  dom.spec.interfaces[0].model = "virtio";
  assert.equal(dom.spec.interfaces[1].model, "e1000");
});

Deno.test("parseManifests() reads JSON (a subset of YAML) with positions", () => {
  const text =
    '{"apiVersion": "lv.dev/v1alpha1", "kind": "Box",\n "metadata": {"name": "b"},\n "spec": {"source": "ftp://x/y"}}\n';
  assert.deepEqual(problems(text, "b.json"), [
    'b.json:3:21: spec.source: must be a local path or an http(s) URL; got "ftp://x/y" (ftp:// is not supported)',
  ]);
});

Deno.test("parseManifests() counts lines the same with CRLF line endings and a BOM", () => {
  const text = "\uFEFF" +
    `${BOX}---\nkind: Box\napiVersion: lv.dev/v1alpha1\nmetadata: {name: x}\nspec:\n  source: ""\n`
      .replaceAll("\n", "\r\n");
  assert.deepEqual(problems(text), [
    'm.yaml:12:11: spec.source: must not be empty; must be a local path or an http(s) URL of a qcow2/raw image or a Vagrant .box; got ""',
  ]);
});

Deno.test("parseManifests() re-applies its own output as `lv get -o yaml` prints it", () => {
  const text = `${BOX}---
apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lab}
spec:
  ipv4: {address: 192.168.50.1, netmask: 255.255.255.0}
  dhcp:
    hosts: [{mac: "52:54:00:00:00:01", ip: 192.168.50.10, name: web}]
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  box: debian12
  memory: 1Gi
  interfaces: [{network: lab, mac: "52:54:00:00:00:01"}, {dev: eth0}]
  provision: [{inline: "echo hi"}]
`;
  const first = parseManifests(text, "m.yaml");
  assert.deepEqual(first.problems, []);
  // what the store would add, then printed
  const printed = first.resources.map((r, i) =>
    stringify({
      ...r,
      metadata: {
        ...r.metadata,
        uid: `uid-${i}`,
        generation: 2,
        resourceVersion: "17",
        creationTimestamp: "2026-01-01T00:00:00Z",
        finalizers: ["lv.dev/cleanup"],
      },
      status: { phase: "Ready", observedGeneration: 2, conditions: [{ type: "Ready", status: "True" }] },
    })
  ).join("---\n");
  const second = parseManifests(printed, "printed.yaml");
  assert.deepEqual(second.problems.map(formatProblem), []);
  assert.deepEqual(second.resources, first.resources);
  assert.equal((second.resources[1] as Network).spec.ipv4.prefix, 24);
});

Deno.test("parseManifests() checks in-file references unless told not to, and never reports names it cannot see", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lab}
spec:
  ipv4: {address: 10.20.30.1}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  box: in-the-store
  interfaces:
    - {network: lab, ip: 10.9.9.9}
    - {network: elsewhere, ip: 10.9.9.8}
`;
  assert.deepEqual(problems(text), [
    'm.yaml:13:26: spec.interfaces[0].ip: must be inside 10.20.30.0/24; got "10.9.9.9"',
  ]);
  assert.deepEqual(parseManifests(text, "m.yaml", { references: "none" }).problems, []);
});

Deno.test("parseManifests() checks references of a document that has other problems too", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lab}
spec:
  ipv4: {address: 10.20.30.1}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  cpus: lots
  interfaces:
    - {network: lab, ip: 10.9.9.9}
`;
  assert.deepEqual(problems(text), [
    'm.yaml:11:9: spec.cpus: must be an integer; got "lots"',
    'm.yaml:13:26: spec.interfaces[0].ip: must be inside 10.20.30.0/24; got "10.9.9.9"',
  ]);
});

Deno.test("parseManifests() points a missing field at its parent mapping", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata:
  name: lab
spec:
  mode: nat
  dhcp:
    range:
      start: 10.0.0.10
`;
  assert.deepEqual(problems(text), [
    "m.yaml:6:3: spec.ipv4: is required",
    "m.yaml:9:7: spec.dhcp.range.end: is required (must be an IPv4 address such as 192.168.121.10)",
  ]);
});

Deno.test("parseManifests() limits are options", () => {
  const two = `${BOX}---\n${BOX.replace("debian12", "b")}`;
  assert.deepEqual(parseManifests(two, "m.yaml", { maxDocuments: 1 }).problems.map(formatProblem), [
    "m.yaml:8:1: file has 2 documents, the limit is 1 (split it into several files)",
  ]);
  assert.deepEqual(parseManifests(BOX, "m.yaml", { maxBytes: 10 }).problems.map(formatProblem), [
    "m.yaml:1:1: file is too large: 101 bytes, the limit is 10 bytes (split it into several files)",
  ]);
  const aliased = `${BOX}x: &x [a]\ny: [*x, *x, *x]\n`;
  assert.ok(
    parseManifests(aliased, "m.yaml", { maxAliasCount: 0 }).problems.some((p) =>
      p.message.startsWith("too many aliases")
    ),
  );
});

Deno.test("parseManifests() reads YAML 1.1 booleans (on, off, yes, no) as strings, as YAML 1.2 does", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
  labels: {enabled: on}
spec:
  nested: off
`;
  assert.deepEqual(problems(text), [
    'm.yaml:7:11: spec.nested: must be true or false; got "off" (YAML 1.2 reads yes/no/on/off as strings; write true or false)',
  ]);
});

Deno.test("parseManifests() rejects keys that are not plain strings", () => {
  const text = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
spec:
  ? [cpus]
  : 2
`;
  assert.deepEqual(problems(text), ["m.yaml:6:5: spec: keys must be plain strings, not lists or mappings"]);
});

Deno.test("parseManifests() caps the problems it reports at 1000 and counts the rest", () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: ${i}`).join("\n");
  const text = `apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata: {name: w}\nspec:\n${keys}\n`;
  const { problems } = parseManifests(text, "m.yaml");
  assert.equal(problems.length, 1001);
  assert.match(
    formatProblem(problems[999]),
    /^m\.yaml:1004:3: spec\.k999: unknown field \(expected one of: box, driver, /,
  );
  assert.deepEqual(problems.slice(1000).map(formatProblem), [
    "m.yaml: 19000 more problems not shown (fix these first)",
  ]);
});
