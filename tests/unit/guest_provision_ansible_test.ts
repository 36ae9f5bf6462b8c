/** The ansible provisioner: its inventory and argv (host side, through the fake's runHost), failures, validation. */
import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain } from "../../src/api/types.ts";
import { runProvisioners } from "../../src/guest/provisioners/provisioners.ts";
import { absolutize } from "../../src/manifest/absolutize.ts";
import { hostPathProblems } from "../../src/manifest/host_paths.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import type { GuestPeer } from "../../src/guest/step_context.ts";
import { ansible, guestFixture, provisionManifest as manifest } from "./guest_fixture.ts";
import { example } from "./harness.ts";

Deno.test("ansible runs ansible-playbook on the host with an inventory of the guest: address, user, key, pinned host key, groups, host vars", async () => {
  const f = await guestFixture((d) =>
    d.spec.provision = [ansible({
      extraVars: { app_port: "8080" },
      limit: "web",
      tags: ["base", "app"],
      verbose: true,
      groups: ["webservers"],
      hostVars: { role: "front end" },
    })]
  );
  try {
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const inventory = `${f.home}/ansible/uid-web.json`;
    assert.deepEqual(f.guest.hostLog, [[
      "ansible-playbook",
      "--inventory",
      inventory,
      "--limit",
      "web",
      "--tags",
      "base,app",
      "--extra-vars",
      '{"app_port":"8080"}',
      "-v",
      "/srv/site.yml",
    ]]);
    const inv = JSON.parse(await Deno.readTextFile(inventory));
    const host = inv.all.hosts.web;
    assert.equal(host.ansible_host, "10.123.0.50");
    assert.equal(host.ansible_port, 22);
    assert.equal(host.ansible_user, "vagrant");
    assert.equal(host.ansible_ssh_private_key_file, f.keyFile);
    assert.equal(host.role, "front end");
    assert.equal(
      host.ansible_ssh_common_args,
      `-o IdentitiesOnly=yes -o UserKnownHostsFile=${f.home}/known_hosts/uid-web -o StrictHostKeyChecking=yes -o HostKeyAlias=lv-web -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=30`,
    );
    assert.equal(await Deno.readTextFile(`${f.home}/known_hosts/uid-web`), `lv-web ${f.guest.hostKey}\n`);
    assert.deepEqual(inv.all.children, { webservers: { hosts: { web: {} } } });
    assert.equal((await Deno.stat(inventory)).mode! & 0o777, 0o600);
    assert.deepEqual(f.events, [
      "Provisioning: running provision[0] (ansible: /srv/site.yml)",
      "Provisioned: provision[0] finished",
    ]);
  } finally {
    await f.close();
  }
});

Deno.test("ansible through a remote libvirt host: its ProxyCommand in the inventory's ssh args", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansible({})]);
  try {
    f.ctx.jump = {
      host: "lab",
      port: 22,
      user: "lv",
      knownHostsFile: `${f.home}/lab_known_hosts`,
      proxyCommand: "ssh -W %h:%p lab",
    };
    await runProvisioners(f.ctx, true);
    const inv = JSON.parse(await Deno.readTextFile(`${f.home}/ansible/uid-web.json`));
    assert.match(
      inv.all.hosts.web.ansible_ssh_common_args,
      /^-o 'ProxyCommand=ssh -W %h:%p lab' -o IdentitiesOnly=yes/,
    );
    // As Vagrant: the play is limited to this Domain unless limit says otherwise.
    assert.deepEqual(f.guest.hostLog[0], [
      "ansible-playbook",
      "--inventory",
      `${f.home}/ansible/uid-web.json`,
      "--limit",
      "web",
      "/srv/site.yml",
    ]);
  } finally {
    await f.close();
  }
});

Deno.test("a failing playbook: ProvisionFailed with ansible-playbook's exit code and output tail, output streamed", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansible({ name: "site" })]);
  try {
    f.guest.failNext("ansible-playbook", {
      code: 2,
      stdout: 'PLAY [all] ***\nTASK [fail] ***\nfatal: [web]: FAILED! => {"msg": "boom"}\n',
    });
    const failed = await runProvisioners(f.ctx, true);
    assert.equal(failed?.reason, "ProvisionFailed");
    assert.equal(
      failed?.message,
      'site exited with code 2; last output:\nPLAY [all] ***\nTASK [fail] ***\nfatal: [web]: FAILED! => {"msg": "boom"}',
    );
    assert.deepEqual(f.progress, [
      'domain/web: site: PLAY [all] ***\nTASK [fail] ***\nfatal: [web]: FAILED! => {"msg": "boom"}\n',
    ]);
  } finally {
    await f.close();
  }
});

Deno.test("an ansible playbook is relative to the manifest and must exist; other types' fields are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/site.yml`, "- hosts: all\n");
    const ok = parseManifests(manifest("    - type: ansible\n      playbook: site.yml\n"), `${dir}/a.yaml`);
    assert.deepEqual(ok.problems, []);
    absolutize(ok.resources[0], dir);
    assert.deepEqual((ok.resources[0] as Domain).spec.provision[0], ansible({ playbook: `${dir}/site.yml` }));
    assert.deepEqual(await hostPathProblems(ok.resources[0]), []);

    const missing = parseManifests(
      manifest("    - type: ansible\n      playbook: nope.yml\n"),
      `${dir}/b.yaml`,
    );
    absolutize(missing.resources[0], dir);
    assert.deepEqual((await hostPathProblems(missing.resources[0])).map(formatProblem), [
      `${dir}/b.yaml:8:17: spec.provision[0].playbook: does not exist on this host; got "${dir}/nope.yml"`,
    ]);

    const mixed = parseManifests(
      manifest(
        "    - type: ansible\n      playbook: site.yml\n      inline: echo hi\n    - inline: echo\n      tags: [x]\n",
      ),
      `${dir}/c.yaml`,
    );
    assert.deepEqual(mixed.problems.map(formatProblem), [
      `${dir}/c.yaml:9:7: spec.provision[0].inline: applies only to type: shell`,
      `${dir}/c.yaml:11:7: spec.provision[1].tags: applies only to type: ansible, ansible_local`,
    ]);

    const shell = parseManifests(manifest("    - inline: echo hi\n"), `${dir}/d.yaml`);
    assert.deepEqual(Object.keys((shell.resources[0] as Domain).spec.provision[0]).sort(), [
      "args",
      "env",
      "inline",
      "privileged",
      "run",
      "type",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ansible on a host without ansible-playbook rejects naming the program, not a hang", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansible({ name: "site" })]);
  try {
    f.ctx.runHost = () =>
      Promise.reject(
        new Deno.errors.NotFound("Failed to spawn 'ansible-playbook': No such file or directory"),
      );
    await assert.rejects(
      runProvisioners(f.ctx, true),
      /^Error: site: cannot run ansible-playbook on this host: Failed to spawn 'ansible-playbook'/,
    );
  } finally {
    await f.close();
  }
});

/** Another Domain of the namespace, as the controller hands it to a step (ctx.peers). */
function peer(
  name: string,
  options: { provision: Domain["spec"]["provision"]; address?: string; state?: "Running" | "Stopped" },
): GuestPeer {
  const dom = structuredClone(example<Domain>("Domain", "web"));
  dom.metadata.name = name;
  dom.metadata.uid = `uid-${name}`;
  dom.spec.provision = options.provision;
  dom.spec.state = options.state ?? "Running";
  dom.status.sshHostKey = options.address ? `ssh-ed25519 AAAA${name}` : undefined;
  return {
    dom,
    endpoint: options.address ? { host: options.address, port: 22 } : undefined,
    keyFile: `/keys/${name}`,
  };
}

Deno.test("several Domains running one playbook share one inventory: each host, its groups and vars; the play limited to this Domain", async () => {
  const f = await guestFixture((d) =>
    d.spec.provision = [ansible({ groups: ["web", "app"], hostVars: { http_port: "80" } })]
  );
  try {
    f.ctx.peers = () =>
      Promise.resolve([
        peer("db", {
          address: "10.123.0.51",
          provision: [
            { type: "shell", inline: "true", args: [], env: {}, privileged: true, run: "once" },
            ansible({ groups: ["databases", "app"], hostVars: { pg_version: "15" } }),
          ],
        }),
        peer("other", { address: "10.123.0.52", provision: [ansible({ playbook: "/srv/other.yml" })] }),
        peer("off", { address: "10.123.0.53", state: "Stopped", provision: [ansible({})] }),
        peer("late", { provision: [ansible({ groups: ["databases"] })] }),
      ]);
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const inv = JSON.parse(await Deno.readTextFile(`${f.home}/ansible/uid-web.json`));
    assert.deepEqual(
      Object.keys(inv.all.hosts),
      ["web", "db"],
      "the same playbook's running, reached guests",
    );
    const db = inv.all.hosts.db;
    assert.equal(db.ansible_host, "10.123.0.51");
    assert.equal(db.ansible_ssh_private_key_file, "/keys/db");
    assert.equal(db.pg_version, "15");
    assert.equal(inv.all.hosts.web.http_port, "80");
    assert.match(db.ansible_ssh_common_args, new RegExp(`UserKnownHostsFile=${f.home}/known_hosts/uid-db `));
    assert.equal(await Deno.readTextFile(`${f.home}/known_hosts/uid-db`), "lv-db ssh-ed25519 AAAAdb\n");
    assert.deepEqual(inv.all.children, {
      web: { hosts: { web: {} } },
      app: { hosts: { web: {}, db: {} } },
      databases: { hosts: { db: {} } },
    });
    assert.deepEqual(f.guest.hostLog[0].slice(3, 5), ["--limit", "web"]);
  } finally {
    await f.close();
  }
});

Deno.test("limit: all waits for every Domain of the playbook lv has not reached yet, then runs on all", async () => {
  const f = await guestFixture((d) => d.spec.provision = [ansible({ limit: "all", name: "site" })]);
  try {
    const late = peer("db", { provision: [ansible({})] });
    f.ctx.peers = () => Promise.resolve([late]);
    await assert.rejects(
      runProvisioners(f.ctx, true),
      /^ProvisionWaitingError: site: waiting for domain\/db to answer on SSH: the inventory of \/srv\/site\.yml \(limit all\) needs them$/,
    );
    assert.equal(f.guest.hostLog.length, 0, "nothing ran");
    assert.deepEqual(f.events, [], "no Provisioning event while waiting");

    late.endpoint = { host: "10.123.0.51", port: 22 };
    late.dom.status.sshHostKey = "ssh-ed25519 AAAAdb";
    late.keyFile = "/keys/db";
    assert.equal(await runProvisioners(f.ctx, true), undefined);
    const inv = JSON.parse(await Deno.readTextFile(`${f.home}/ansible/uid-web.json`));
    assert.deepEqual(Object.keys(inv.all.hosts), ["web", "db"]);
    assert.deepEqual(f.guest.hostLog[0].slice(3, 5), ["--limit", "all"]);
  } finally {
    await f.close();
  }
});
