/**
 * Rules of Domain.spec.provision that depend on the type: which fields belong to which type (another type's
 * field given is an error; its walked-in default is dropped), and each type's required fields (shell: one of
 * inline and path, not both being the schema's atMostOne).
 *
 * @module
 */

import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainSpec, Provisioner } from "./types.ts";
import type { Loose } from "./loose.ts";
import { PROVISIONER } from "./schema_provision.ts";

const ANSIBLE = ["playbook", "extraVars", "limit", "tags", "verbose", "groups", "hostVars"];
const CONTAINERS = ["images", "containers"];
const FIELDS: Record<Provisioner["type"], readonly string[]> = {
  shell: ["inline", "path", "args", "env", "privileged"],
  file: ["source", "destination"],
  ansible: ANSIBLE,
  ansible_local: [...ANSIBLE, "provisioningPath", "install"],
  puppet: ["manifestsPath", "manifestFile", "modulePath", "facter", "options"],
  salt: ["statesPath", "minionConfig", "states", "pillar", "logLevel", "saltCallArgs"],
  docker: CONTAINERS,
  podman: CONTAINERS,
};
const REQUIRED: Record<Provisioner["type"], readonly string[]> = {
  shell: [],
  file: ["source", "destination"],
  ansible: ["playbook"],
  ansible_local: ["playbook"],
  puppet: ["manifestsPath"],
  salt: [],
  docker: [],
  podman: [],
};
/** Each type's field names, and the types a name belongs to (for "applies only to type: ..."). */
const OWNERS = new Map<string, string[]>();
for (const [type, names] of Object.entries(FIELDS)) {
  for (const name of names) OWNERS.set(name, [...(OWNERS.get(name) ?? []), type]);
}

/** Given, as far as a walked value tells: defaults (empty list or map, false, privileged, the field's) are not. */
function given(p: Record<string, unknown>, name: string): boolean {
  const v = p[name];
  if (v === undefined || v === false || name === "privileged") return false;
  if (v === PROVISIONER.fields[name]?.default) return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== "object" || v === null || Object.keys(v).length > 0;
}

/** Checks each walked provisioner against its type. */
export function checkProvisioners(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  (spec.provision ?? []).forEach((entry, i) => {
    const p = entry as Record<string, unknown> | undefined;
    const type = p?.type as Provisioner["type"] | undefined;
    if (p === undefined || type === undefined || !Object.hasOwn(FIELDS, type)) return; // the walk reported it
    const path: PathSegment[] = ["spec", "provision", i];
    for (const [name, owners] of OWNERS) {
      if (owners.includes(type)) continue;
      if (given(p, name)) {
        r.report([...path, name], { message: `applies only to type: ${owners.join(", ")}`, key: true });
      }
      delete p[name]; // the defaults walked in
    }
    for (const name of REQUIRED[type]) {
      if (p[name] === undefined) {
        r.report([...path, name], { message: `is required for type: ${type}`, missing: true });
      }
    }
    if (type === "shell" && p.inline === undefined && p.path === undefined) {
      r.report(path, { message: "must have exactly one of inline or path" });
    }
  });
}
