import assert from "node:assert/strict";
import { parse } from "yaml";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain } from "../../src/api/types.ts";
import { cloudInitReport } from "../../src/guest/cloud_init/cloud_init_report.ts";
import { seedContent, type SeedInput } from "../../src/guest/cloud_init/seed_content.ts";
import { SEED_LABEL, writeSeedImage } from "../../src/guest/cloud_init/seed_image.ts";
import { isUserDataPath, userDataProblems } from "../../src/manifest/user_data_text.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { loadManifests } from "../../src/cli/manifests.ts";
import type { InvalidInputError } from "../../src/cli/errors.ts";
import { newHarness } from "./harness.ts";

const INPUT: SeedInput = {
  uid: "0b6f1c2e-1111-4222-8333-944455556666",
  hostname: "web",
  user: "vagrant",
  authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIlvkey lv web",
  hostKey: {
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey",
  },
  interfaces: [
    { mac: "52:54:00:00:00:01" },
    { mac: "52:54:00:00:00:02", address: "10.9.0.5", prefix: 24 },
  ],
};

const cloudConfig = (text: string) => {
  assert.match(text, /^#cloud-config\n/);
  return parse(text) as Record<string, unknown>;
};

Deno.test("seedContent() gives lv's user with its key and passwordless sudo, and the host key lv pins", () => {
  const seed = seedContent(INPUT);
  const data = cloudConfig(seed.userData);
  assert.deepEqual(data.users, [{
    name: "vagrant",
    sudo: "ALL=(ALL) NOPASSWD:ALL",
    shell: "/bin/bash",
    lock_passwd: true,
    ssh_authorized_keys: [INPUT.authorizedKey],
  }]);
  assert.deepEqual(data.ssh_keys, {
    ed25519_private: INPUT.hostKey!.privateKey,
    ed25519_public: INPUT.hostKey!.publicKey,
  });
  assert.deepEqual(parse(seed.metaData), { "instance-id": seed.instanceId, "local-hostname": "web" });
  assert.match(seed.instanceId, /^iid-0b6f1c2e-1111-4222-8333-944455556666-[0-9a-f]{12}$/);
});

Deno.test("seedContent() writes network-config v2: static where lv configures an address, DHCP otherwise", () => {
  assert.deepEqual(parse(seedContent(INPUT).networkConfig), {
    version: 2,
    ethernets: {
      lv0: { match: { macaddress: "52:54:00:00:00:01" }, dhcp4: true },
      lv1: { match: { macaddress: "52:54:00:00:00:02" }, addresses: ["10.9.0.5/24"], dhcp4: false },
    },
  });
  const own = { version: 1, config: [{ type: "physical", name: "eth0", subnets: [{ type: "dhcp" }] }] };
  assert.deepEqual(parse(seedContent({ ...INPUT, networkConfig: own }).networkConfig), own);
});

Deno.test("seedContent() writes YAML 1.1 as cloud-init reads it: a MAC of digits only stays a string", () => {
  // PyYAML (YAML 1.1) reads 52:54:00:20:14:13 unquoted as a base-60 integer: cloud-init then failed its
  // network stage ("'int' object has no attribute 'lower'") and the guest never got its addresses.
  const seed = seedContent({
    ...INPUT,
    hostname: "0:1",
    interfaces: [{ mac: "52:54:00:20:14:13", address: "10.61.0.14", prefix: 24 }, {
      mac: "52:54:00:12:34:56",
    }],
    userData: { write_files: [{ path: "/etc/x", content: "on" }] },
  });
  const net = parse(seed.networkConfig, { version: "1.1" });
  const macs = Object.values(net.ethernets).map((e) =>
    (e as { match: { macaddress: unknown } }).match.macaddress
  );
  assert.deepEqual(macs, ["52:54:00:20:14:13", "52:54:00:12:34:56"]);
  assert.equal(parse(seed.metaData, { version: "1.1" })["local-hostname"], "0:1");
  assert.equal(parse(seed.userData, { version: "1.1" }).write_files[0].content, "on");
});

Deno.test("seedContent() merges a userData mapping after lv's defaults, lv's user first", () => {
  const data = cloudConfig(
    seedContent({
      ...INPUT,
      userData: {
        users: ["default", { name: "alice" }],
        write_files: [{ path: "/etc/motd", content: "hi" }],
        runcmd: ["true"],
      },
    }).userData,
  );
  assert.deepEqual((data.users as { name?: string }[]).map((u) => typeof u === "string" ? u : u.name), [
    "vagrant",
    "default",
    "alice",
  ]);
  assert.deepEqual(data.write_files, [{ path: "/etc/motd", content: "hi" }]);
  assert.deepEqual(data.runcmd, ["true"]);
  assert.ok(data.ssh_keys, "lv's host key stays");
});

Deno.test("seedContent() takes userData text as is", () => {
  const text = "#!/bin/sh\necho hello > /tmp/hello\n";
  assert.equal(seedContent({ ...INPUT, userData: text }).userData, text);
});

Deno.test("seedContent() is deterministic; a change of user data or network gives a new instance-id", () => {
  const a = seedContent(INPUT);
  assert.deepEqual(seedContent(INPUT), a);
  const b = seedContent({ ...INPUT, userData: { runcmd: ["true"] } });
  const c = seedContent({ ...INPUT, interfaces: [{ mac: "52:54:00:00:00:01" }] });
  assert.notEqual(b.instanceId, a.instanceId);
  assert.notEqual(c.instanceId, a.instanceId);
  assert.notEqual(b.instanceId, c.instanceId);
});

Deno.test("userDataProblems() checks #cloud-config text only: valid YAML and a mapping", async (t) => {
  await t.step("valid", () => assert.deepEqual(userDataProblems("#cloud-config\nruncmd: [ls]\n"), []));
  await t.step("empty cloud-config", () => assert.deepEqual(userDataProblems("#cloud-config\n"), []));
  await t.step("a script is not YAML", () => assert.deepEqual(userDataProblems("#!/bin/sh\n: [\n"), []));
  await t.step("bad YAML, at its line", () => {
    const [p] = userDataProblems("#cloud-config\nruncmd:\n  - ls\n bad: [\n");
    assert.equal(p.line, 4);
    assert.match(p.message, /^invalid YAML in #cloud-config user data: /);
  });
  await t.step("not a mapping", () => {
    const [p] = userDataProblems("#cloud-config\n- ls\n");
    assert.equal(p.line, 2);
    assert.match(p.message, /must be a mapping/);
  });
});

Deno.test("isUserDataPath() tells a host file path from user data text", () => {
  assert.equal(isUserDataPath("./user-data.yaml"), true);
  assert.equal(isUserDataPath("/srv/ci/web.cfg"), true);
  assert.equal(isUserDataPath("#cloud-config"), false);
  assert.equal(isUserDataPath("#!/bin/sh\ntrue\n"), false);
  assert.equal(isUserDataPath("runcmd: [ls]\nbootcmd: []\n"), false);
});

const domainManifest = (cloudInit: string) =>
  `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
spec:
  cloudInit:
${cloudInit}`;

Deno.test("validation of spec.cloudInit: problems with file:line and field path", async (t) => {
  await t.step("{} is lv's defaults", () => {
    const { resources, problems } = parseManifests(
      domainManifest("    {}\n").replace("cloudInit:\n", "cloudInit:"),
      "w.yaml",
    );
    assert.deepEqual(problems.map(formatProblem), []);
    assert.deepEqual((resources[0] as Domain).spec.cloudInit, {});
  });
  await t.step("a mapping and text are kept", () => {
    const { resources, problems } = parseManifests(
      domainManifest("    userData:\n      runcmd: [ls]\n    networkConfig:\n      version: 2\n"),
      "w.yaml",
    );
    assert.deepEqual(problems.map(formatProblem), []);
    assert.deepEqual((resources[0] as Domain).spec.cloudInit, {
      userData: { runcmd: ["ls"] },
      networkConfig: { version: 2 },
    });
  });
  await t.step("#cloud-config text that is not valid YAML: its line in the manifest", () => {
    const { problems } = parseManifests(
      domainManifest("    userData: |\n      #cloud-config\n      runcmd:\n        - ls\n       bad: [\n"),
      "web.yaml",
    );
    assert.equal(problems.length, 1);
    assert.match(formatProblem(problems[0]), /^web\.yaml:11:\d+: spec\.cloudInit\.userData: invalid YAML/);
  });
  await t.step("#cloud-config text that is not a mapping", () => {
    const { problems } = parseManifests(
      domainManifest("    userData: |\n      #cloud-config\n      - ls\n"),
      "w.yaml",
    );
    assert.match(
      formatProblem(problems[0]),
      /^w\.yaml:9:\d+: spec\.cloudInit\.userData: .*must be a mapping/,
    );
  });
  await t.step("a list is neither", () => {
    const { problems } = parseManifests(
      domainManifest("    userData: [1]\n    networkConfig: x\n"),
      "w.yaml",
    );
    assert.deepEqual(problems.map(formatProblem), [
      "w.yaml:7:15: spec.cloudInit.userData: must be a mapping (cloud-config merged with lv's) or text (the whole user-data, or a file path); got a list",
      'w.yaml:8:20: spec.cloudInit.networkConfig: must be a mapping (network-config version 1 or 2); got "x"',
    ]);
  });
  await t.step("an unknown field", () => {
    const { problems } = parseManifests(domainManifest("    userdata: {}\n"), "w.yaml");
    assert.match(formatProblem(problems[0]), /spec\.cloudInit\.userdata: .*did you mean "userData"/);
  });
});

Deno.test("cloudInitReport() reads the guest's cloud-init state and error lines", async (t) => {
  await t.step("still running", () => assert.equal(cloudInitReport({ code: 124 }).state, "running"));
  await t.step("not installed", () => assert.equal(cloudInitReport({ code: 127 }).state, "absent"));
  await t.step("done", () => assert.deepEqual(cloudInitReport({ code: 0 }), { state: "done", errors: [] }));
  await t.step("failed: result.json's errors, then the log's warning and error lines", () => {
    const r = cloudInitReport({
      code: 1,
      result: '{"v1": {"datasource": "DataSourceNoCloud", "errors": ["(\'runcmd\', Exception(\'boom\'))"]}}',
      log: "2026-12-01 10:00:00,000 - util.py[DEBUG]: Running command\n" +
        "2026-12-01 10:00:01,000 - util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/runcmd [1]\n",
    });
    assert.equal(r.state, "error");
    assert.deepEqual(r.errors, [
      "('runcmd', Exception('boom'))",
      "2026-12-01 10:00:01,000 - util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/runcmd [1]",
    ]);
  });
  await t.step("no result file: the log alone", () => {
    assert.deepEqual(cloudInitReport({ code: 1, log: "x [ERROR]: bad\n" }), {
      state: "error",
      errors: ["x [ERROR]: bad"],
    });
  });
});

Deno.test("writeSeedImage() makes an ISO labelled cidata holding the three files (genisoimage)", async () => {
  const seed = seedContent(INPUT);
  const file = await writeSeedImage(seed);
  try {
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const info = await new Deno.Command("isoinfo", { args: ["-d", "-i", file], stdout: "piped" }).output();
    assert.match(new TextDecoder().decode(info.stdout), new RegExp(`^Volume id: ${SEED_LABEL}$`, "m"));
    for (const [name, text] of [["user-data", seed.userData], ["meta-data", seed.metaData]]) {
      const out = await new Deno.Command("isoinfo", {
        args: ["-J", "-i", file, "-x", `/${name}`],
        stdout: "piped",
      })
        .output();
      assert.equal(new TextDecoder().decode(out.stdout), text);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("examples/cloud-image.yaml is valid: a Box from the cloud image, a Network, a Domain with cloudInit", () => {
  const file = new URL("../../examples/cloud-image.yaml", import.meta.url);
  const { resources, problems } = parseManifests(Deno.readTextFileSync(file), "examples/cloud-image.yaml");
  assert.deepEqual(problems.map(formatProblem), []);
  const dom = resources.find((r) => r.kind === "Domain") as Domain;
  assert.deepEqual(Object.keys(dom.spec.cloudInit!), ["userData"]);
  assert.equal(dom.spec.box, "debian12-cloud");
});

Deno.test("lv apply reads a userData file relative to its manifest and refuses a bad one at its own file:line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-userdata-" });
  const h = await newHarness();
  try {
    await Deno.writeTextFile(`${dir}/good.yaml`, "#cloud-config\nruncmd: [ls]\n");
    await Deno.writeTextFile(`${dir}/bad.yaml`, "#cloud-config\nruncmd:\n  - ls\n- oops\n");
    const manifest = (file: string) => domainManifest(`    userData: ${file}\n`);
    await Deno.writeTextFile(`${dir}/good-web.yaml`, manifest("good.yaml"));
    const [dom] = await loadManifests([`${dir}/good-web.yaml`], h.store) as Domain[];
    assert.equal(dom.spec.cloudInit?.userData, `${dir}/good.yaml`);

    await Deno.writeTextFile(`${dir}/bad-web.yaml`, manifest("bad.yaml"));
    await assert.rejects(
      loadManifests([`${dir}/bad-web.yaml`], h.store),
      (e: InvalidInputError) => {
        assert.match(
          e.lines.join("\n"),
          new RegExp(`${dir}/bad\\.yaml:4:1: spec\\.cloudInit\\.userData: invalid YAML in #cloud-config`),
        );
        return true;
      },
    );
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
