/**
 * ansible_local, puppet, salt, docker and podman on the fake guest: their command lines and files, a guest
 * without the tool (Ready=False ProvisionerToolMissing, nothing run), ansible_local's install: true, failures.
 */
import assert from "node:assert/strict";
import type {
  DockerProvisioner,
  Provisioner,
  PuppetProvisioner,
  SaltProvisioner,
} from "../../src/api/types.ts";
import { runProvisioners } from "../../src/guest/provisioners/provisioners.ts";
import { ansibleLocal, guestFixture } from "./guest_fixture.ts";
import { installAptGet, installTools } from "./fake_guest_tools.ts";

Deno.test("ansible_local runs ansible-playbook in the guest, in provisioningPath, on an inventory of the guest (connection local)", async () => {
  const f = await guestFixture((d) =>
    d.spec.provision = [ansibleLocal({
      groups: ["web"],
      hostVars: { greeting: "hello" },
      extraVars: { port: "80" },
      tags: ["base"],
      verbose: true,
    })]
  );
  try {
    const tools = installTools(f.guest, ["ansible-playbook"]);
    f.guest.dirs.add("/vagrant");
    f.guest.files.set("/vagrant/site.yml", { content: "- hosts: all\n", mode: 0o644, owner: "vagrant" });
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const inventory = "/tmp/lv-ansible-uid-web.json";
    assert.deepEqual(tools.runs, [{
      argv: [
        "ansible-playbook",
        "--inventory",
        inventory,
        "--limit",
        "web",
        "--tags",
        "base",
        "--extra-vars",
        '{"port":"80"}',
        "-v",
        "site.yml",
      ],
      root: false,
      cwd: "/vagrant",
    }]);
    assert.deepEqual(JSON.parse(f.guest.read(inventory)!), {
      all: {
        hosts: { web: { ansible_connection: "local", greeting: "hello" } },
        children: { web: { hosts: { web: {} } } },
      },
    });
    assert.equal(f.guest.files.get(inventory)!.mode, 0o600);
    assert.deepEqual(f.events, [
      "Provisioning: running provision[0] (ansible_local: site.yml in /vagrant)",
      "Provisioned: provision[0] finished",
    ]);
  } finally {
    await f.close();
  }
});

Deno.test("ansible_local on a guest without ansible: ProvisionerToolMissing naming it, nothing installed or run", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansibleLocal({ name: "site" })]);
  try {
    const apt = installAptGet(f.guest, { ansible: ["ansible-playbook"] });
    assert.deepEqual(await runProvisioners(f.ctx, true), {
      reason: "ProvisionerToolMissing",
      message:
        "site: ansible-playbook is not installed in the guest of domain/web; use a box that has it or set install: true",
    });
    assert.deepEqual(apt, [], "apt-get not run");
    assert.deepEqual(f.events, ["Provisioning: running site (ansible_local: site.yml in /vagrant)"]);
  } finally {
    await f.close();
  }
});

Deno.test("ansible_local install: true installs ansible with the guest's apt-get as root, then runs the playbook", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansibleLocal({ install: true })]);
  try {
    const tools = installTools(f.guest, ["ansible-playbook"]);
    f.guest.installed.delete("ansible-playbook");
    const apt = installAptGet(f.guest, { ansible: ["ansible-playbook"] });
    f.guest.dirs.add("/vagrant");
    f.guest.files.set("/vagrant/site.yml", { content: "- hosts: all\n", mode: 0o644, owner: "vagrant" });
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.deepEqual(apt, [["update"], ["install", "-y", "ansible"]]);
    assert.ok(
      f.guest.commands().includes("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y ansible"),
    );
    assert.equal(tools.runs.length, 1);
    assert.ok(
      f.events.includes("Installing: provision[0]: installing ansible with apt-get"),
      f.events.join("\n"),
    );
  } finally {
    await f.close();
  }
});

Deno.test("ansible_local install: true on a guest with no package manager lv knows: ProvisionerToolMissing saying so", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansibleLocal({ install: true })]);
  try {
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(failed?.reason, "ProvisionerToolMissing");
    assert.match(failed!.message, /lv cannot install it there: no apt-get, dnf, yum, zypper or apk$/);
  } finally {
    await f.close();
  }
});

Deno.test("ansible_local: a playbook missing in the guest is ProvisionFailed with ansible's message", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansibleLocal({ playbook: "nope.yml" })]);
  try {
    installTools(f.guest, ["ansible-playbook"]);
    f.guest.dirs.add("/vagrant");
    const failed = await runProvisioners(f.ctx, true);
    assert.deepEqual(failed, {
      reason: "ProvisionFailed",
      message:
        "provision[0] exited with code 1; last output:\nERROR! the playbook: nope.yml could not be found",
    });
  } finally {
    await f.close();
  }
});

Deno.test("puppet copies manifests and modules into the guest and runs puppet apply as root; exit code 2 (changes) succeeds", async () => {
  const src = await Deno.makeTempDir();
  await Deno.mkdir(`${src}/manifests`);
  await Deno.mkdir(`${src}/modules/motd`, { recursive: true });
  await Deno.writeTextFile(`${src}/manifests/site.pp`, "include motd\n");
  await Deno.writeTextFile(`${src}/modules/motd/init.pp`, "class motd {}\n");
  const puppet: PuppetProvisioner = {
    type: "puppet",
    manifestsPath: `${src}/manifests`,
    manifestFile: "site.pp",
    modulePath: `${src}/modules`,
    facter: { role: "web" },
    options: ["--verbose"],
    run: "once",
  };
  const f = await guestFixture((d) => d.spec.provision = [puppet]);
  try {
    const tools = installTools(f.guest, ["puppet"]);
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const stage = "/tmp/lv-puppet-uid-web";
    assert.equal(f.guest.read(`${stage}/manifests/site.pp`), "include motd\n");
    assert.equal(f.guest.read(`${stage}/modules/motd/init.pp`), "class motd {}\n");
    assert.deepEqual(tools.runs, [{
      argv: [
        "puppet",
        "apply",
        "--color=false",
        "--detailed-exitcodes",
        `--modulepath=${stage}/modules`,
        "--verbose",
        `${stage}/manifests/site.pp`,
      ],
      root: true,
      cwd: undefined,
    }]);
    assert.ok(
      f.guest.commands().includes(
        `sudo -n env FACTER_role=web puppet apply --color=false --detailed-exitcodes --modulepath=${stage}/modules --verbose ${stage}/manifests/site.pp`,
      ),
    );
  } finally {
    await f.close();
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("salt runs masterless salt-call --local as root on the states copied into the guest, with the pillar", async () => {
  const src = await Deno.makeTempDir();
  await Deno.writeTextFile(`${src}/top.sls`, "base:\n  '*':\n    - web\n");
  await Deno.writeTextFile(`${src}/web.sls`, "nginx: pkg.installed\n");
  const salt: SaltProvisioner = {
    type: "salt",
    statesPath: src,
    states: [],
    pillar: { port: "80" },
    logLevel: "warning",
    saltCallArgs: [],
    run: "once",
  };
  const f = await guestFixture((d) => d.spec.provision = [salt, { ...salt, states: ["web", "db"] }]);
  try {
    const tools = installTools(f.guest, ["salt-call"]);
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const stage = "/tmp/lv-salt-uid-web";
    assert.equal(f.guest.read(`${stage}/states/web.sls`), "nginx: pkg.installed\n");
    const common = [
      "salt-call",
      "--local",
      "--retcode-passthrough",
      "--log-level=warning",
      `--file-root=${stage}/states`,
    ];
    assert.deepEqual(tools.runs.map((r) => [r.root, r.argv]), [
      [true, [...common, "state.highstate", 'pillar={"port":"80"}']],
      [true, [...common, "state.apply", "web,db", 'pillar={"port":"80"}']],
    ]);
  } finally {
    await f.close();
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("docker pulls images and runs containers as root, replacing a container of the same name; podman the same", async () => {
  const docker: DockerProvisioner = {
    type: "docker",
    images: ["nginx:1.25"],
    containers: [
      {
        name: "web",
        image: "nginx:1.25",
        cmd: [],
        args: ["-p", "8080:80"],
        daemonize: true,
        restart: "always",
      },
      { name: "once", cmd: ["echo", "hi"], args: [], daemonize: false, restart: "no" },
    ],
    run: "once",
  };
  const f = await guestFixture((d) => d.spec.provision = [docker, { ...docker, type: "podman" }]);
  try {
    const tools = installTools(f.guest, ["docker", "podman"]);
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.deepEqual(tools.containers.get("web"), [
      "run",
      "--name",
      "web",
      "-d",
      "--restart=always",
      "-p",
      "8080:80",
      "nginx:1.25",
    ]);
    assert.deepEqual(tools.containers.get("once"), [
      "run",
      "--name",
      "once",
      "--restart=no",
      "once",
      "echo",
      "hi",
    ]);
    assert.ok(tools.images.has("nginx:1.25"));
    assert.ok(tools.runs.every((r) => r.root));
    assert.deepEqual(tools.runs.filter((r) => r.argv[0] === "podman").map((r) => r.argv[1]), [
      "pull",
      "rm",
      "run",
      "rm",
      "run",
    ]);

    // Provisioned again (lv provision): the containers are replaced, not a name conflict.
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    assert.equal(tools.containers.size, 2);
  } finally {
    await f.close();
  }
});

Deno.test("puppet, salt, docker and podman on a guest without the tool: ProvisionerToolMissing naming it, nothing run", async () => {
  const missing: [Provisioner, string][] = [
    [{
      type: "puppet",
      manifestsPath: "/nope",
      manifestFile: "default.pp",
      facter: {},
      options: [],
      run: "once",
    }, "puppet"],
    [
      { type: "salt", states: [], pillar: {}, logLevel: "warning", saltCallArgs: [], run: "once" },
      "salt-call",
    ],
    [{ type: "docker", images: ["x"], containers: [], run: "once" }, "docker"],
    [{ type: "podman", images: ["x"], containers: [], run: "once" }, "podman"],
  ];
  for (const [p, program] of missing) {
    const f = await guestFixture((d) => d.spec.provision = [{ ...p, name: "cfg" }]);
    try {
      assert.deepEqual(await runProvisioners(f.ctx, true), {
        reason: "ProvisionerToolMissing",
        message: `cfg: ${program} is not installed in the guest of domain/web; use a box that has it`,
      });
      assert.deepEqual(f.guest.hostLog, [], `${program}: nothing copied`);
    } finally {
      await f.close();
    }
  }
});

Deno.test("a failing pull: ProvisionFailed with docker's exit code and message, no container run", async () => {
  const f = await guestFixture((d) =>
    d.spec.provision = [{
      type: "docker",
      images: ["Bad:Ref"],
      containers: [{ name: "web", cmd: [], args: [], daemonize: true, restart: "always" }],
      run: "once",
    }]
  );
  try {
    const tools = installTools(f.guest, ["docker"]);
    assert.deepEqual(await runProvisioners(f.ctx, true), {
      reason: "ProvisionFailed",
      message:
        "provision[0] exited with code 125; last output:\ninvalid reference format: repository name must be lowercase",
    });
    assert.equal(tools.containers.size, 0);
  } finally {
    await f.close();
  }
});
