/** Change classes: every field of every kind has one; diff/apply classify changes with them. */
import assert from "node:assert/strict";
import { changeClassOf } from "../../src/api/change_class.ts";
import { type Field, RESOURCE_FIELDS } from "../../src/api/schema.ts";
import { KINDS } from "../../src/api/types.ts";
import { changeEffects } from "../../src/cli/change_effects.ts";
import { planApply } from "../../src/cli/apply_plan.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { restartFields } from "../../src/controller/domain/restart_fields.ts";

function leaves(field: Field, path: string): string[] {
  if (field.type === "object") {
    return Object.entries(field.fields).flatMap(([k, f]) => leaves(f, path ? `${path}.${k}` : k));
  }
  if (field.type === "array") return leaves(field.items, `${path}[]`);
  return [path];
}

Deno.test("changeClassOf() classifies every spec field, labels and annotations of every kind", () => {
  for (const kind of KINDS) {
    const paths = leaves(RESOURCE_FIELDS[kind], "").filter((p) =>
      /^spec\.|^metadata\.(labels|annotations)$/.test(p)
    );
    assert.ok(paths.length > 3, kind);
    for (const p of paths) assert.ok(changeClassOf(kind, p), `${kind} ${p} has no change class`);
  }
});

Deno.test("changeClassOf() gives the classes the issue names", async (t) => {
  const cases: [Parameters<typeof changeClassOf>, string][] = [
    [["Domain", "spec.box"], "immutable"],
    [["Domain", "spec.memory"], "live"],
    [["Domain", "spec.maxMemory"], "restart"],
    [["Domain", "spec.cpus"], "live"],
    [["Domain", "spec.maxVcpus"], "restart"],
    [["Domain", "spec.interfaces[0].linkState"], "live"],
    [["Domain", "spec.interfaces[1].ip"], "restart"],
    [["Domain", "spec.state"], "live"],
    [["Domain", "metadata.labels.app"], "live"],
    [["Volume", "spec.backingBox"], "immutable"],
    [["Box", "spec.source"], "live"],
    [["Volume", "spec.size"], "live"],
    [["Network", "spec.mode"], "immutable-in-use"],
    [["Network", "spec.ipv4.address"], "immutable-in-use"],
    [["Network", "spec.dhcp.hosts[0].ip"], "live"],
    [["Network", "spec.dhcp.range.start"], "restart"],
  ];
  for (const [args, want] of cases) {
    await t.step(`${args.join(" ")} is ${want}`, () => assert.equal(changeClassOf(...args), want));
  }
});

const parse = (text: string) => parseManifests(`apiVersion: lv.dev/v1alpha1\n${text}`, "x.yaml").resources[0];

Deno.test("changeEffects() classifies and refuses changes", async (t) => {
  const cases: { name: string; before: string; after: string; inUse?: boolean; want: string[] }[] = [
    {
      name: "a Domain's memory needs a restart, its state is live",
      before: "kind: Domain\nmetadata: {name: w}\nspec: {memory: 512}\n",
      after: "kind: Domain\nmetadata: {name: w}\nspec: {memory: 1024, state: Stopped}\n",
      want: ["spec.memory restart", "spec.state live"],
    },
    {
      name: "a Domain's memory within maxMemory and vCPUs added within maxVcpus are live",
      before: "kind: Domain\nmetadata: {name: w}\nspec: {memory: 512, maxMemory: 2048, maxVcpus: 4}\n",
      after:
        "kind: Domain\nmetadata: {name: w}\nspec: {memory: 2048, maxMemory: 2048, cpus: 4, maxVcpus: 4}\n",
      want: ["spec.cpus live", "spec.memory live"],
    },
    {
      name: "memory beyond the running maximum, a new maximum and fewer vCPUs need a restart",
      before:
        "kind: Domain\nmetadata: {name: w}\nspec: {memory: 512, maxMemory: 1024, cpus: 2, maxVcpus: 4}\n",
      after:
        "kind: Domain\nmetadata: {name: w}\nspec: {memory: 1536, maxMemory: 2048, cpus: 1, maxVcpus: 4}\n",
      want: ["spec.cpus restart", "spec.memory restart", "spec.maxMemory restart"],
    },
    {
      name: "an interface's link state is live",
      before: "kind: Domain\nmetadata: {name: w}\nspec: {interfaces: [{network: n}]}\n",
      after: "kind: Domain\nmetadata: {name: w}\nspec: {interfaces: [{network: n, linkState: down}]}\n",
      want: ["spec.interfaces[0].linkState live"],
    },
    {
      name: "a Domain's box is refused",
      before: "kind: Domain\nmetadata: {name: w}\nspec: {box: a}\n",
      after: "kind: Domain\nmetadata: {name: w}\nspec: {box: b}\n",
      want: ["spec.box immutable refused"],
    },
    {
      name: "a Volume grows live and is refused to shrink",
      before: "kind: Volume\nmetadata: {name: v}\nspec: {size: 2Gi}\n",
      after: "kind: Volume\nmetadata: {name: v}\nspec: {size: 1Gi}\n",
      want: ["spec.size live refused"],
    },
    {
      name: "a Network's address only while unused",
      before: "kind: Network\nmetadata: {name: n}\nspec: {ipv4: {address: 10.0.0.1}}\n",
      after: "kind: Network\nmetadata: {name: n}\nspec: {ipv4: {address: 10.0.1.1}}\n",
      want: [
        "spec.ipv4.address immutable-in-use",
        "spec.dhcp.range.start restart",
        "spec.dhcp.range.end restart",
      ],
    },
    {
      name: "a used Network's address is refused",
      before: "kind: Network\nmetadata: {name: n}\nspec: {ipv4: {address: 10.0.0.1}}\n",
      after: "kind: Network\nmetadata: {name: n}\nspec: {ipv4: {address: 10.0.1.1}}\n",
      inUse: true,
      want: [
        "spec.ipv4.address immutable-in-use refused",
        "spec.dhcp.range.start restart",
        "spec.dhcp.range.end restart",
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const live = planApply(parse(c.before), undefined).next;
      const next = planApply(parse(c.after), live).next;
      const got = changeEffects(live, next, c.inUse).map((e) =>
        `${e.path} ${e.cls}${e.refused ? " refused" : ""}`
      );
      assert.deepEqual(got, c.want);
    });
  }
});

Deno.test("restartFields() names spec fields for libvirt's differences", () => {
  assert.deepEqual(restartFields(["memoryMiB", "currentMemoryMiB", "vcpus", "disks[vdb]"]), [
    "spec.memory",
    "spec.cpus",
    "spec.disks",
  ]);
  assert.deepEqual(restartFields(["memoryMiB", "maxVcpus"], { maxMemory: 1024 }), [
    "spec.maxMemory",
    "spec.cpus",
  ]);
  assert.deepEqual(restartFields(["maxVcpus"], { maxVcpus: 4 }), ["spec.maxVcpus"]);
});
