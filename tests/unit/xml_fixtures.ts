/**
 * Shared helpers for the libvirt XML tests: resource fixtures, validation
 * against libvirt's own RelaxNG schemas (virt-xml-validate), and a round trip
 * through libvirt's in-process test driver (`virsh -c test:///default`, no
 * daemon), which parses lv's XML and prints it back the way libvirt formats it.
 * Both tools come with Debian's libvirt-clients package.
 */

import assert from "node:assert/strict";
import type { Domain, DomainSpec, Network, NetworkSpec, ObjectMeta } from "../../src/api/types.ts";

/** Characters that must never reach XML unescaped. */
export const HOSTILE = `a<b>&c"d'e]]>f`;

export function meta(name: string, overrides: Partial<ObjectMeta> = {}): ObjectMeta {
  return {
    name,
    namespace: "default",
    labels: {},
    annotations: {},
    uid: `uid-${name}`,
    generation: 1,
    resourceVersion: "1",
    creationTimestamp: "2024-01-01T00:00:00Z",
    finalizers: [],
    ownerReferences: [],
    ...overrides,
  };
}

export function networkResource(
  name: string,
  spec: Partial<NetworkSpec> = {},
  metaOverrides: Partial<ObjectMeta> = {},
): Network {
  return {
    apiVersion: "lv.dev/v1alpha1",
    kind: "Network",
    metadata: meta(name, metaOverrides),
    spec: {
      mode: "nat",
      ipv4: { address: "10.20.30.1", prefix: 24 },
      dhcp: { enabled: true, range: { start: "10.20.30.100", end: "10.20.30.200" }, hosts: [] },
      autostart: true,
      ...spec,
    },
    status: {},
  };
}

export function domainResource(
  name: string,
  spec: Partial<DomainSpec> = {},
  metaOverrides: Partial<ObjectMeta> = {},
): Domain {
  return {
    apiVersion: "lv.dev/v1alpha1",
    kind: "Domain",
    metadata: meta(name, metaOverrides),
    spec: {
      cpus: 1,
      memory: 512,
      nested: false,
      volumeCache: "default",
      disks: [],
      interfaces: [],
      ssh: { user: "vagrant", port: 22, insertKey: true, forwardAgent: false, forwardX11: false },
      provision: [],
      syncedFolders: [],
      state: "Running",
      storagePoolName: "default",
      ...spec,
    },
    status: {},
  };
}

async function withTempFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ prefix: "lv-xml-test-", suffix: ".xml" });
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} not found: install Debian's libvirt-clients package`, { cause });
    }
    throw cause;
  }
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Asserts that libvirt's RelaxNG schema accepts the XML. */
export async function assertLibvirtValid(
  xml: string,
  schema: "domain" | "network" | "storagevol" | "storagepool",
): Promise<void> {
  await withTempFile(xml, async (path) => {
    const { code, stdout, stderr } = await run("virt-xml-validate", [path, schema]);
    assert.equal(code, 0, `virt-xml-validate ${schema} rejected:\n${xml}\n${stdout}${stderr}`);
  });
}

/** Escapes one argument for virsh's own command-line parser (backslash before anything unusual). */
function virshArg(arg: string): string {
  return arg.replace(/[^A-Za-z0-9_./:-]/g, (c) => `\\${c}`);
}

/**
 * Runs commands in one virsh process against the test driver (which keeps
 * state only for that process) and returns each command's output. `FILE` in
 * an argument list stands for a temp file holding `xml`.
 */
export async function virshTestDriver(xml: string, commands: string[][]): Promise<string[]> {
  const marker = "@@lv-test-split@@";
  return await withTempFile(xml, async (path) => {
    const line = commands
      .map((c) => c.map((a) => virshArg(a === "FILE" ? path : a)).join(" "))
      .join(` ; echo ${marker} ; `);
    const { code, stdout, stderr } = await run("virsh", ["-q", "-c", "test:///default", line]);
    assert.equal(code, 0, `virsh test driver failed: ${stderr}\n${xml}`);
    // virsh -q prints echo output without a newline.
    return stdout.split(marker).map((part) => part.replace(/^\n/, ""));
  });
}
