/** The provisioner types' fields on input: defaults, host paths relative to the manifest that must exist, other types' fields refused. */
import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain } from "../../src/api/types.ts";
import { absolutize } from "../../src/manifest/absolutize.ts";
import { hostPathProblems } from "../../src/manifest/host_paths.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { ansibleLocal, provisionManifest as manifest } from "./guest_fixture.ts";

Deno.test("each new type gets its Vagrant defaults and keeps only its own fields", () => {
  const r = parseManifests(
    manifest(
      [
        "    - type: ansible_local",
        "      playbook: site.yml",
        "    - type: puppet",
        "      manifestsPath: manifests",
        "    - type: salt",
        "    - type: docker",
        "      containers:",
        "        - name: web",
        "    - inline: echo hi",
        "",
      ].join("\n"),
    ),
    "/m/a.yaml",
  );
  assert.deepEqual(r.problems.map(formatProblem), []);
  const [local, puppet, salt, docker, shell] = (r.resources[0] as Domain).spec.provision;
  assert.deepEqual(local, ansibleLocal({}));
  assert.deepEqual(puppet, {
    type: "puppet",
    manifestsPath: "manifests",
    manifestFile: "default.pp",
    facter: {},
    options: [],
    run: "once",
  });
  assert.deepEqual(salt, {
    type: "salt",
    states: [],
    pillar: {},
    logLevel: "warning",
    saltCallArgs: [],
    run: "once",
  });
  assert.deepEqual(docker, {
    type: "docker",
    images: [],
    containers: [{ name: "web", cmd: [], args: [], daemonize: true, restart: "always" }],
    run: "once",
  });
  assert.deepEqual(Object.keys(shell).sort(), ["args", "env", "inline", "privileged", "run", "type"]);
});

Deno.test("another type's field, a missing required field: errors at file:line naming the types it belongs to", () => {
  const r = parseManifests(
    manifest(
      [
        "    - type: docker",
        "      manifestFile: site.pp",
        "    - type: puppet",
        "    - type: ansible_local",
        "      playbook: site.yml",
        "      containers: [{name: web}]",
        "    - type: shell",
        "      inline: echo",
        "      install: true",
        "",
      ].join("\n"),
    ),
    "/m/b.yaml",
  );
  assert.deepEqual(r.problems.map(formatProblem), [
    "/m/b.yaml:8:7: spec.provision[0].manifestFile: applies only to type: puppet",
    "/m/b.yaml:9:7: spec.provision[1].manifestsPath: is required for type: puppet",
    "/m/b.yaml:12:7: spec.provision[2].containers: applies only to type: docker, podman",
    "/m/b.yaml:15:7: spec.provision[3].install: applies only to type: ansible_local",
  ]);
});

Deno.test("puppet and salt host paths are relative to the manifest and must exist, the manifest file too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/manifests`);
    await Deno.mkdir(`${dir}/salt`);
    await Deno.writeTextFile(`${dir}/manifests/default.pp`, "notify { 'hi': }\n");
    const good = parseManifests(
      manifest(
        "    - type: puppet\n      manifestsPath: manifests\n    - type: salt\n      statesPath: salt\n",
      ),
      `${dir}/a.yaml`,
    );
    absolutize(good.resources[0], dir);
    const [puppet, salt] = (good.resources[0] as Domain).spec.provision;
    assert.equal(puppet.type === "puppet" && puppet.manifestsPath, `${dir}/manifests`);
    assert.equal(salt.type === "salt" && salt.statesPath, `${dir}/salt`);
    assert.deepEqual(await hostPathProblems(good.resources[0]), []);

    const bad = parseManifests(
      manifest(
        [
          "    - type: puppet",
          "      manifestsPath: manifests",
          "      manifestFile: site.pp",
          "      modulePath: modules",
          "    - type: salt",
          "      minionConfig: minion",
          "",
        ].join("\n"),
      ),
      `${dir}/b.yaml`,
    );
    absolutize(bad.resources[0], dir);
    assert.deepEqual((await hostPathProblems(bad.resources[0])).map(formatProblem), [
      `${dir}/b.yaml:9:21: spec.provision[0].manifestFile: does not exist on this host; got "${dir}/manifests/site.pp"`,
      `${dir}/b.yaml:10:19: spec.provision[0].modulePath: does not exist on this host; got "${dir}/modules"`,
      `${dir}/b.yaml:12:21: spec.provision[1].minionConfig: does not exist on this host; got "${dir}/minion"`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
