import assert from "node:assert/strict";
import { assignDiskDevices, defaultDhcpRange, deviceName } from "../../src/api/defaults.ts";
import {
  didYouMean,
  formatPath,
  formatProblem,
  formatValue,
  parsePath,
  positionOf,
  type Problem,
  ValidationError,
} from "../../src/api/problem.ts";
import { GiB, MiB } from "../../src/api/quantity.ts";
import type {
  AnyResource,
  Box,
  Domain,
  Kind,
  Network,
  ObjectMeta,
  ShellProvisioner,
  Volume,
} from "../../src/api/types.ts";
import { validateResource } from "../../src/api/validate.ts";
import { copyDefault } from "../../src/api/validate_fields.ts";
import { prefixFromNetmask } from "../../src/api/validate_ipv4.ts";
import { NO_LOOKUP, validateReferences } from "../../src/api/validate_references.ts";
import { parseManifests } from "../../src/manifest/parse.ts";

const EMPTY_META = {
  namespace: "default",
  labels: {},
  annotations: {},
  uid: "",
  generation: 0,
  resourceVersion: "",
  creationTimestamp: "",
  finalizers: [],
  ownerReferences: [],
} satisfies Omit<ObjectMeta, "name">;

function meta(name: string, extra: Partial<ObjectMeta> = {}): ObjectMeta {
  return { name, ...EMPTY_META, ...extra };
}

function valid(input: unknown): AnyResource {
  const { resource, problems } = validateResource(input);
  assert.deepEqual(problems.map(formatProblem), []);
  assert.ok(resource);
  return resource;
}

function problemsOf(input: unknown): string[] {
  return validateResource(input).problems.map(formatProblem);
}

const A = "lv.dev/v1alpha1";

/** What validation fills into every Domain for the machine and device fields. */
const MACHINE_DEFAULTS = {
  machineType: "pc",
  firmware: "bios",
  secureBoot: false,
  cpu: { features: [] },
  bootOrder: [],
  graphics: { type: "none", listen: "127.0.0.1" },
  cdroms: [],
  rng: { enabled: true, backend: "/dev/urandom" },
  inputs: [],
  hostDevices: [],
} as const satisfies Partial<Domain["spec"]>;

Deno.test("validateResource() fills every default of a minimal Domain", () => {
  const expected: Domain = {
    apiVersion: A,
    kind: "Domain",
    metadata: meta("web"),
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
      forwardedPorts: [],
      state: "Running",
      storagePoolName: "default",
      communicator: "ssh",
      gracefulHaltTimeout: 60,
      ...MACHINE_DEFAULTS,
    },
    status: {},
  };
  assert.deepEqual(valid({ apiVersion: A, kind: "Domain", metadata: { name: "web" } }), expected);
  assert.deepEqual(valid({ apiVersion: A, kind: "Domain", metadata: { name: "web" }, spec: null }), expected);
  // driver stays undefined: the controller decides
  assert.equal("driver" in (expected.spec as object), false);
});

Deno.test("validateResource() fills Box, Volume and Network defaults", () => {
  const box: Box = {
    apiVersion: A,
    kind: "Box",
    metadata: meta("debian12"),
    spec: { source: "https://example.com/debian12.box", pool: "default" },
    status: {},
  };
  assert.deepEqual(
    valid({
      apiVersion: A,
      kind: "Box",
      metadata: { name: "debian12" },
      spec: { source: "https://example.com/debian12.box" },
    }),
    box,
  );
  const volume: Volume = {
    apiVersion: A,
    kind: "Volume",
    metadata: meta("data"),
    spec: { pool: "default", size: 10 * GiB, format: "qcow2" },
    status: {},
  };
  assert.deepEqual(
    valid({ apiVersion: A, kind: "Volume", metadata: { name: "data" }, spec: { size: "10Gi" } }),
    volume,
  );
  const overlay = valid({
    apiVersion: A,
    kind: "Volume",
    metadata: { name: "o" },
    spec: { backingBox: "debian12" },
  });
  assert.deepEqual(overlay.spec, { pool: "default", format: "qcow2", backingBox: "debian12" });
  const network: Network = {
    apiVersion: A,
    kind: "Network",
    metadata: meta("lab"),
    spec: {
      mode: "nat",
      ipv4: { address: "10.20.30.1", prefix: 24 },
      dhcp: { enabled: true, range: { start: "10.20.30.2", end: "10.20.30.254" }, hosts: [] },
      autostart: true,
    },
    status: {},
  };
  assert.deepEqual(
    valid({
      apiVersion: A,
      kind: "Network",
      metadata: { name: "lab" },
      spec: { ipv4: { address: "10.20.30.1" } },
    }),
    network,
  );
});

Deno.test("validateResource() converts a netmask to a prefix and sizes the default DHCP range to the subnet", async (t) => {
  const cases: [
    Record<string, unknown>,
    { address: string; prefix: number },
    { start: string; end: string } | undefined,
  ][] = [
    [{ address: "10.20.30.1", netmask: "255.255.255.0" }, { address: "10.20.30.1", prefix: 24 }, {
      start: "10.20.30.2",
      end: "10.20.30.254",
    }],
    [{ address: "172.16.0.1", netmask: "255.255.0.0" }, { address: "172.16.0.1", prefix: 16 }, {
      start: "172.16.0.2",
      end: "172.16.255.254",
    }],
    [{ address: "192.168.7.17", prefix: 28 }, { address: "192.168.7.17", prefix: 28 }, {
      start: "192.168.7.18",
      end: "192.168.7.30",
    }],
    [{ address: "192.168.7.1", prefix: 30 }, { address: "192.168.7.1", prefix: 30 }, {
      start: "192.168.7.2",
      end: "192.168.7.2",
    }],
  ];
  for (const [ipv4, expected, range] of cases) {
    await t.step(JSON.stringify(ipv4), () => {
      const net = valid({
        apiVersion: A,
        kind: "Network",
        metadata: { name: "n" },
        spec: { ipv4 },
      }) as Network;
      assert.deepEqual(net.spec.ipv4, expected);
      assert.deepEqual(net.spec.dhcp.range, range);
    });
  }
  await t.step("no default range when DHCP is off", () => {
    const net = valid({
      apiVersion: A,
      kind: "Network",
      metadata: { name: "n" },
      spec: { ipv4: { address: "10.0.0.1" }, dhcp: { enabled: false } },
    }) as Network;
    assert.deepEqual(net.spec.dhcp, { enabled: false, hosts: [] });
  });
});

Deno.test("parseManifests() turns a full Domain into the exact defaulted object", () => {
  const text = `
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
  namespace: lab
  labels:
    app.kubernetes.io/name: web
    tier: ""
  annotations:
    note: |
      multi-line
      text
spec:
  box: debian12
  driver: kvm
  cpus: 4
  memory: 2Gi
  nested: true
  volumeCache: unsafe
  disks:
    - volume: data
    - volume: scratch
      bus: sata
      cache: none
    - volume: logs
      device: vdf
  interfaces:
    - network: lab
      mac: "52:54:00:AB:CD:01"
      ip: 10.20.30.10
      prefix: 24
      model: e1000
    - dev: eno1
    - dev: eno2
      mode: vepa
  hostname: web.lab.example
  ssh:
    user: debian
    port: 2222
    privateKey: ~/.ssh/id_ed25519
    forwardAgent: true
    forwardX11: true
  provision:
    - inline: |
        apt-get update
        apt-get install -y nginx
      name: nginx
    - path: ./setup.sh
      args: ["--role", "web"]
      env: {ROLE: web, EMPTY: ""}
      privileged: false
      run: always
  syncedFolders:
    - source: ./site
      target: /var/www
    - source: ./data
      target: /data
      type: nfs
      exclude: [".git", "*.tmp"]
  forwardedPorts:
    - {guest: 80, host: 8080}
  state: Stopped
  storagePoolName: fast
  machineVirtualSize: 40
  managementNetwork: vagrant-libvirt
`;
  const expected: Domain = {
    apiVersion: A,
    kind: "Domain",
    metadata: meta("web", {
      namespace: "lab",
      labels: { "app.kubernetes.io/name": "web", tier: "" },
      annotations: { note: "multi-line\ntext\n" },
    }),
    spec: {
      box: "debian12",
      driver: "kvm",
      cpus: 4,
      memory: 2048,
      nested: true,
      volumeCache: "unsafe",
      disks: [
        { volume: "data", device: "vdb", bus: "virtio" },
        { volume: "scratch", device: "sda", bus: "sata", cache: "none" },
        { volume: "logs", device: "vdf", bus: "virtio" },
      ],
      interfaces: [
        { network: "lab", mac: "52:54:00:ab:cd:01", ip: "10.20.30.10", prefix: 24, model: "e1000" },
        { dev: "eno1", mode: "bridge", model: "virtio" },
        { dev: "eno2", mode: "vepa", model: "virtio" },
      ],
      hostname: "web.lab.example",
      ssh: {
        user: "debian",
        port: 2222,
        privateKey: "~/.ssh/id_ed25519",
        insertKey: true,
        forwardAgent: true,
        forwardX11: true,
      },
      provision: [
        {
          type: "shell",
          inline: "apt-get update\napt-get install -y nginx\n",
          args: [],
          env: {},
          privileged: true,
          run: "once",
          name: "nginx",
        },
        {
          type: "shell",
          path: "./setup.sh",
          args: ["--role", "web"],
          env: { ROLE: "web", EMPTY: "" },
          privileged: false,
          run: "always",
        },
      ],
      syncedFolders: [
        { source: "./site", target: "/var/www", type: "rsync", exclude: [] },
        { source: "./data", target: "/data", type: "nfs", exclude: [".git", "*.tmp"] },
      ],
      forwardedPorts: [{ guest: 80, host: 8080, hostIp: "127.0.0.1", protocol: "tcp" }],
      state: "Stopped",
      storagePoolName: "fast",
      machineVirtualSize: 40 * GiB,
      managementNetwork: "vagrant-libvirt",
      communicator: "ssh",
      gracefulHaltTimeout: 60,
      ...MACHINE_DEFAULTS,
    },
    status: {},
  };
  const { resources, problems } = parseManifests(text, "web.yaml");
  assert.deepEqual(problems.map(formatProblem), []);
  assert.deepEqual(resources, [expected]);
  // keys come out in the order of the types (what `lv get -o yaml` prints)
  assert.deepEqual(Object.keys(resources[0].spec as object), Object.keys(expected.spec));
  assert.deepEqual(Object.keys((resources[0] as Domain).spec.disks[0]), ["volume", "device", "bus"]);
  assert.deepEqual(Object.keys((resources[0] as Domain).spec.interfaces[1]), ["dev", "mode", "model"]);
});

Deno.test("validateResource() accepts and drops status and lv-managed metadata (lv get -o yaml output)", () => {
  const stored = {
    apiVersion: A,
    kind: "Volume",
    metadata: {
      name: "data",
      namespace: "default",
      labels: {},
      annotations: {},
      uid: "0b5d3c1e",
      generation: 7,
      resourceVersion: "42",
      creationTimestamp: "2026-01-01T00:00:00Z",
      deletionTimestamp: "2026-01-02T00:00:00Z",
      finalizers: ["lv.dev/volume"],
      ownerReferences: [{ kind: "Domain", name: "web", uid: "1", controller: true }],
    },
    spec: { pool: "default", size: 1073741824, format: "qcow2" },
    status: { phase: "Ready", conditions: [{ type: "Ready", status: "True" }], path: "/x" },
  };
  assert.deepEqual(valid(stored), {
    apiVersion: A,
    kind: "Volume",
    metadata: meta("data"),
    spec: { pool: "default", size: GiB, format: "qcow2" },
    status: {},
  });
});

Deno.test("validateResource() reports every problem at once, without positions for plain data", () => {
  const problems = validateResource({
    apiVersion: A,
    kind: "Domain",
    metadata: { name: "Web" },
    spec: { cpus: 0, memory: "1GB", interfaces: [{ network: "lab", mac: "zz" }], state: "up", cpuss: 2 },
  }).problems;
  assert.deepEqual(problems.map(formatProblem), [
    'metadata.name: must be a name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 63 characters; got "Web" (did you mean "web"?)',
    'spec.cpuss: unknown field (did you mean "cpus"?)',
    "spec.cpus: must be between 1 and 512; got 0",
    'spec.memory: must be a size: a number of MiB or a quantity such as 2Gi; got "1GB" (did you mean "1Gi"?)',
    'spec.interfaces[0].mac: must be a MAC address such as 52:54:00:12:34:56; got "zz"',
    'spec.state: must be one of Running, Stopped, Paused; got "up"',
  ]);
  for (const p of problems) assert.deepEqual([p.file, p.line, p.column], ["", 0, 0]);
});

Deno.test("validateResource() rejects input that is not a resource", async (t) => {
  const cases: [unknown, string][] = [
    [null, "must be a mapping with apiVersion, kind, metadata and spec; got null"],
    ["web", 'must be a mapping with apiVersion, kind, metadata and spec; got "web"'],
    [[1], "must be a mapping with apiVersion, kind, metadata and spec; got a list"],
    [{}, "kind: is required (one of Box, Volume, Network, Domain)"],
    [
      { apiVersion: A, kind: 7, metadata: { name: "x" } },
      "kind: must be one of Box, Volume, Network, Domain; got 7",
    ],
    [
      { apiVersion: "lv.dev/v1", kind: "Box", metadata: { name: "x" }, spec: { source: "/x" } },
      'apiVersion: must be "lv.dev/v1alpha1"; got "lv.dev/v1"',
    ],
  ];
  for (const [input, message] of cases) {
    await t.step(message, () => assert.ok(problemsOf(input).includes(message), problemsOf(input).join("\n")));
  }
});

Deno.test("validateResource() normalizes MACs, names disks after the box overlay, and keeps __proto__ an ordinary key", () => {
  const dom = valid({
    apiVersion: A,
    kind: "Domain",
    metadata: { name: "web" },
    spec: {
      box: "b",
      disks: [{ volume: "a" }, { volume: "c", device: "vdc" }, { volume: "d" }, { volume: "e", bus: "ide" }],
      interfaces: [{ network: "n", mac: "52:54:00:AA:BB:CC" }],
      provision: [{ inline: "env", env: JSON.parse('{"__proto__": "x"}') }],
    },
  }) as Domain;
  assert.deepEqual(dom.spec.disks.map((d) => d.device), ["vdb", "vdc", "vdd", "hda"]);
  assert.equal(dom.spec.interfaces[0].mac, "52:54:00:aa:bb:cc");
  const env = (dom.spec.provision[0] as ShellProvisioner).env;
  assert.deepEqual(Object.keys(env), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(env), Object.prototype);
});

Deno.test("validateResource() accepts sizes as numbers, quantities and numeric strings", async (t) => {
  const cases: [string, unknown, number][] = [
    ["memory", 1024, 1024],
    ["memory", "1024", 1024],
    ["memory", "1Gi", 1024],
    ["memory", "1.5Gi", 1536],
    ["memory", "16Mi", 16],
    ["memory", "16Ti", 16 * 1024 * 1024],
    ["memory", "1073741824e0", 1024],
    ["machineVirtualSize", 40, 40 * GiB],
    ["machineVirtualSize", "40Gi", 40 * GiB],
    ["machineVirtualSize", "40G", 40e9],
  ];
  for (const [field, value, expected] of cases) {
    await t.step(`${field}: ${JSON.stringify(value)}`, () => {
      const dom = valid({
        apiVersion: A,
        kind: "Domain",
        metadata: { name: "w" },
        spec: { box: "b", [field]: value },
      });
      assert.equal((dom.spec as unknown as Record<string, number>)[field], expected);
    });
  }
  await t.step("Volume size: 1 byte to 64Ti", () => {
    for (const [size, bytes] of [[1, 1], ["64Ti", 64 * 1024 * GiB], ["512Mi", 512 * MiB]] as const) {
      const vol = valid({ apiVersion: A, kind: "Volume", metadata: { name: "v" }, spec: { size } }) as Volume;
      assert.equal(vol.spec.size, bytes);
    }
  });
});

// ---------------------------------------------------------------- references

function resources(text: string): AnyResource[] {
  const { resources, problems } = parseManifests(text, "refs.yaml", { references: "none" });
  assert.deepEqual(problems.map(formatProblem), []);
  return resources;
}

const STORE_TEXT = `
apiVersion: lv.dev/v1alpha1
kind: Box
metadata: {name: debian12}
spec: {source: /boxes/debian12.box}
---
apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lab}
spec:
  ipv4: {address: 10.20.30.1}
  dhcp:
    hosts: [{mac: "52:54:00:00:00:99", ip: 10.20.30.99}]
---
apiVersion: lv.dev/v1alpha1
kind: Volume
metadata: {name: data}
spec: {size: 1Gi}
`;

function storeLookup(objects: AnyResource[]) {
  return (kind: Kind, namespace: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
}

Deno.test("validateReferences() resolves names through the lookup (the store)", () => {
  const store = resources(STORE_TEXT);
  const applied = resources(`
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  box: debian12
  disks: [{volume: data}]
  interfaces:
    - {network: lab, ip: 10.20.30.10}
    - {network: lab, ip: 10.20.30.99, mac: "52:54:00:00:00:99"}
`);
  assert.deepEqual(validateReferences(applied, storeLookup(store)), []);
  assert.deepEqual(
    validateReferences(applied, NO_LOOKUP).map(formatProblem),
    [
      'refs.yaml:6:8: spec.box: no Box "debian12" in namespace "default", neither in these manifests nor in the store',
      'refs.yaml:7:20: spec.disks[0].volume: no Volume "data" in namespace "default", neither in these manifests nor in the store',
      'refs.yaml:9:17: spec.interfaces[0].network: no Network "lab" in namespace "default", neither in these manifests nor in the store',
      'refs.yaml:10:17: spec.interfaces[1].network: no Network "lab" in namespace "default", neither in these manifests nor in the store',
    ],
  );
});

Deno.test("validateReferences() checks static addresses against a stored Network", () => {
  const store = resources(STORE_TEXT);
  const applied = resources(`
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  interfaces:
    - {network: lab, ip: 10.9.9.9}
    - {network: lab, ip: 10.20.30.99}
    - {network: lab, ip: 10.20.30.255}
`);
  assert.deepEqual(validateReferences(applied, storeLookup(store)).map(formatProblem), [
    'refs.yaml:7:26: spec.interfaces[0].ip: must be inside 10.20.30.0/24; got "10.9.9.9"',
    'refs.yaml:8:26: spec.interfaces[1].ip: is reserved for 52:54:00:00:00:99 on Network "lab"; got "10.20.30.99" (see its spec.dhcp.hosts[0]; give this interface that mac, or another ip)',
    'refs.yaml:9:26: spec.interfaces[2].ip: must not be the broadcast address of 10.20.30.0/24; got "10.20.30.255"',
  ]);
});

Deno.test("validateReferences() allows the stored overlay a Domain owns, but no other Volume of its name", () => {
  const domain = resources(`
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec: {box: debian12}
`);
  const store = resources(STORE_TEXT);
  const overlay = (owner: string): Volume => ({
    apiVersion: A,
    kind: "Volume",
    metadata: meta("web", { ownerReferences: [{ kind: "Domain", name: owner, uid: "u", controller: true }] }),
    spec: { pool: "default", format: "qcow2", backingBox: "debian12" },
    status: {},
  });
  assert.deepEqual(validateReferences(domain, storeLookup([...store, overlay("web")])), []);
  assert.deepEqual(validateReferences(domain, storeLookup([...store, overlay("other")])).map(formatProblem), [
    'refs.yaml:5:13: spec.box: needs a Volume named "web" for its box overlay, but Volume "web" already exists in the store (rename the Volume or the Domain, or attach the box through a Volume with backingBox)',
  ]);
});

Deno.test("validateReferences() reports duplicates and works on resources without positions", () => {
  const box = valid({ apiVersion: A, kind: "Box", metadata: { name: "b" }, spec: { source: "/b.img" } });
  const again = valid({ apiVersion: A, kind: "Box", metadata: { name: "b" }, spec: { source: "/c.img" } });
  const other = valid({
    apiVersion: A,
    kind: "Box",
    metadata: { name: "b", namespace: "prod" },
    spec: { source: "/c.img" },
  });
  const problems: Problem[] = validateReferences([box, again, other], NO_LOOKUP);
  assert.deepEqual(problems.map(formatProblem), [
    'metadata.name: Box "b" is defined twice in namespace "default" (first earlier)',
  ]);
  assert.equal(problems[0].line, 0);
});

// ---------------------------------------------------------------- problems and helpers

Deno.test("positionOf() finds a parsed field, its key, or the nearest enclosing node", () => {
  const [dom] = resources(`apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
spec:
  cpus: 2
  interfaces:
    - network: lab
      ip: 10.20.30.10
`);
  assert.deepEqual(positionOf(dom, "spec.cpus"), { file: "refs.yaml", line: 6, column: 9 });
  assert.deepEqual(positionOf(dom, "spec.cpus", { key: true }), { file: "refs.yaml", line: 6, column: 3 });
  assert.deepEqual(positionOf(dom, ["spec", "interfaces", 0, "ip"]), {
    file: "refs.yaml",
    line: 9,
    column: 11,
  });
  // defaulted fields point at their parent mapping
  assert.deepEqual(positionOf(dom, "spec.interfaces[0].model"), { file: "refs.yaml", line: 8, column: 7 });
  assert.deepEqual(positionOf(dom, "spec.memory"), { file: "refs.yaml", line: 6, column: 3 });
  assert.equal(positionOf({}, "spec"), undefined);
});

Deno.test("formatProblem() writes file:line:col: path: message; got value (hint)", async (t) => {
  const base: Problem = {
    file: "m.yaml",
    line: 12,
    column: 7,
    path: "spec.interfaces[1].ip",
    message: "must be inside 10.20.30.0/24",
  };
  const cases: [Problem, string][] = [
    [
      { ...base, value: "10.9.9.9" },
      'm.yaml:12:7: spec.interfaces[1].ip: must be inside 10.20.30.0/24; got "10.9.9.9"',
    ],
    [base, "m.yaml:12:7: spec.interfaces[1].ip: must be inside 10.20.30.0/24"],
    [{ ...base, line: 0, column: 0 }, "m.yaml: spec.interfaces[1].ip: must be inside 10.20.30.0/24"],
    [{ ...base, file: "", line: 0, column: 0, path: "" }, "must be inside 10.20.30.0/24"],
    [
      { ...base, value: 3, hint: "h" },
      "m.yaml:12:7: spec.interfaces[1].ip: must be inside 10.20.30.0/24; got 3 (h)",
    ],
    [
      { ...base, value: "\x1b[31mred\n" },
      'm.yaml:12:7: spec.interfaces[1].ip: must be inside 10.20.30.0/24; got "\\u001b[31mred\\n"',
    ],
  ];
  for (const [problem, text] of cases) await t.step(text, () => assert.equal(formatProblem(problem), text));
});

Deno.test("formatValue() cuts long strings and names collections", () => {
  assert.equal(formatValue("x".repeat(100)), JSON.stringify("x".repeat(60) + "…"));
  assert.equal(formatValue([]), "an empty list");
  assert.equal(formatValue({ a: 1 }), "a mapping");
  assert.equal(formatValue(null), "null");
  assert.equal(formatValue(false), "false");
  // nothing a terminal would act on: controls, C1 controls, bidi overrides, zero-width characters
  assert.equal(formatValue("a\u202eb\u0085c\u200bd\u0007"), '"a\\u202eb\\u0085c\\u200bd\\u0007"');
  assert.equal(formatPath(["labels", "x\u2066"]), 'labels["x\\u2066"]');
  assert.deepEqual(parsePath('labels["x\\u2066"]'), ["labels", "x\u2066"]);
});

Deno.test("formatPath() and parsePath() round-trip, quoting keys that are not identifiers", () => {
  const paths: (string | number)[][] = [
    ["spec", "interfaces", 1, "ip"],
    ["metadata", "labels", "app.kubernetes.io/name"],
    ["spec", "provision", 0, "env", 'we"ird]'],
    [],
  ];
  for (const p of paths) assert.deepEqual(parsePath(formatPath(p)), p);
  assert.equal(
    formatPath(["metadata", "labels", "app.kubernetes.io/name"]),
    'metadata.labels["app.kubernetes.io/name"]',
  );
});

Deno.test("didYouMean() suggests near misses only", () => {
  assert.equal(didYouMean("memroy", ["memory", "cpus"]), 'did you mean "memory"?');
  assert.equal(didYouMean("volume_cache", ["volumeCache"]), 'did you mean "volumeCache"?');
  assert.equal(didYouMean("CPUS", ["cpus"]), 'did you mean "cpus"?');
  assert.equal(didYouMean("gpu", ["cpus", "memory"]), undefined);
  assert.equal(didYouMean("x", ["box"]), undefined);
});

Deno.test("ValidationError carries every problem and lists them", () => {
  const problems =
    validateResource({ apiVersion: A, kind: "Domain", metadata: {}, spec: { cpus: 0 } }).problems;
  const error = new ValidationError(problems);
  assert.equal(error.problems, problems);
  assert.equal(
    error.message,
    '2 problems:\n  metadata.name: is required (must be a name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 63 characters)\n  spec.cpus: must be between 1 and 512; got 0',
  );
});

Deno.test("defaultDhcpRange() spans network+2 to broadcast-1", () => {
  assert.deepEqual(defaultDhcpRange("10.20.30.1", 24), { start: "10.20.30.2", end: "10.20.30.254" });
  assert.deepEqual(defaultDhcpRange("10.0.0.1", 8), { start: "10.0.0.2", end: "10.255.255.254" });
  assert.deepEqual(defaultDhcpRange("10.0.0.1", 29), { start: "10.0.0.2", end: "10.0.0.6" });
  assert.equal(defaultDhcpRange("10.0.0.1", 31), undefined);
  assert.equal(defaultDhcpRange("nope", 24), undefined);
});

Deno.test("assignDiskDevices() and deviceName() count like the kernel", () => {
  assert.deepEqual([0, 1, 25, 26, 27, 701, 702].map((i) => deviceName("vd", i)), [
    "vda",
    "vdb",
    "vdz",
    "vdaa",
    "vdab",
    "vdzz",
    "vdaaa",
  ]);
  assert.deepEqual(
    assignDiskDevices([{ bus: "virtio" }, { bus: "scsi" }, { bus: "virtio", device: "vdb" }, {
      bus: "virtio",
    }], {
      taken: ["vda"],
    }).map((d) => d.device),
    ["vdc", "sda", "vdb", "vdd"],
  );
});

Deno.test("prefixFromNetmask() accepts contiguous masks only", () => {
  assert.equal(prefixFromNetmask("255.255.255.0"), 24);
  assert.equal(prefixFromNetmask("255.255.255.255"), 32);
  assert.equal(prefixFromNetmask("0.0.0.0"), 0);
  assert.equal(prefixFromNetmask("255.255.254.0"), 23);
  assert.equal(prefixFromNetmask("255.0.255.0"), undefined);
  assert.equal(prefixFromNetmask("255.255.255.1"), undefined);
});

Deno.test("an interface's network is a Network lv manages: libvirt's own default is refused, and types.ts says so", () => {
  const applied = resources(`
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec:
  interfaces: [{network: default}]
`);
  assert.deepEqual(validateReferences(applied, NO_LOOKUP).map(formatProblem), [
    'refs.yaml:6:26: spec.interfaces[0].network: no Network "default" in namespace "default", neither in these manifests nor in the store',
  ]);
  const types = Deno.readTextFileSync(new URL("../../src/api/types.ts", import.meta.url));
  const doc = types.split("export interface DomainInterface {")[1].split("network?: string;")[0];
  assert.doesNotMatch(doc, /lv does not manage/, "the doc comment must not promise unmanaged networks");
  assert.match(doc, /Network resource/);
});

Deno.test("defaults are copied into each resource: changing one's labels or interfaces changes no other's", () => {
  const doc = {
    apiVersion: "lv.dev/v1alpha1",
    kind: "Domain",
    metadata: { name: "a" },
    spec: { memory: 64 },
  };
  const [a, b] = [validateResource(structuredClone(doc)), validateResource(structuredClone(doc))];
  assert.deepEqual([a.problems, b.problems], [[], []]);
  const [ra, rb] = [a.resource as Domain, b.resource as Domain];
  assert.deepEqual(ra.metadata.labels, {});
  ra.metadata.labels.x = "y";
  (ra.spec.interfaces as unknown[]).push({});
  assert.deepEqual(rb.metadata.labels, {});
  assert.deepEqual(rb.spec.interfaces, []);
  assert.deepEqual(validateResource(structuredClone(doc)).resource, rb);
});

Deno.test("copyDefault copies plain data deeply and other objects through structuredClone", () => {
  const value = { a: [1, { b: "c" }], d: null, e: new Date(0) };
  const copy = copyDefault(value);
  assert.deepEqual(copy, value);
  assert.notEqual(copy.a, value.a);
  assert.notEqual(copy.a[1], value.a[1]);
  assert.notEqual(copy.e, value.e);
  assert.equal(copyDefault("x"), "x");
});
