/**
 * Declarative apply against the lab's libvirtd, with a diskless domain (communicator: none): a halted
 * domain stays halted through a re-apply; a memory change on a running domain gives RestartRequired and
 * lv reload (or apply --restart) applies it; lv diff's exit codes; dry runs change nothing; a
 * `get -o yaml | apply -f -` round trip is unchanged; lv edit through an $EDITOR script.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Lv, mutating, requireLab, virsh } from "./helpers.ts";

const NAME = "ap-web";

function manifest(extra = ""): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: ${NAME}
  labels: {app: web}
spec:
  communicator: none
  driver: qemu
  memory: 128
  gracefulHaltTimeout: 1
${extra}`;
}

/** Max memory of the running domain in KiB, from virsh dominfo. */
async function maxMemoryKiB(): Promise<number> {
  const m = /Max memory:\s+(\d+) KiB/.exec(await virsh("dominfo", NAME));
  assert.ok(m, "dominfo shows Max memory");
  return Number(m[1]);
}

interface Condition {
  type: string;
  status: string;
  message: string;
}

interface Stored {
  resourceVersion: string;
  spec: Record<string, unknown>;
  status: { conditions?: Condition[] };
}

async function stored(lv: Lv): Promise<Stored> {
  const obj = JSON.parse((await lv.ok(["get", "domain", NAME, "-o", "json"])).stdout);
  return { resourceVersion: obj.metadata.resourceVersion, spec: obj.spec, status: obj.status };
}

function restartRequired(status: Stored["status"]): Condition | undefined {
  return status.conditions?.find((c) => c.type === "RestartRequired" && c.status === "True");
}

Deno.test("lv apply is a three-way merge with change classes, diff, dry runs, round trips and edit", async (t) => {
  requireLab();
  const lv = new Lv();
  const file = join(lv.home, "web.yaml");
  Deno.writeTextFileSync(file, manifest());
  try {
    await t.step("apply, halt, apply again: the domain stays shut off", async () => {
      assert.match((await lv.ok(["apply", "-f", file, "--timeout=120s"])).stdout, /domain\/ap-web created/);
      assert.equal((await virsh("domstate", NAME)).trim(), "running");
      await lv.ok(["halt", NAME, "--timeout=60s"]);
      assert.equal((await virsh("domstate", NAME)).trim(), "shut off");
      const again = await lv.ok(["apply", "-f", file, "--timeout=60s"]);
      assert.equal(again.stdout, "domain/ap-web unchanged\n");
      assert.equal((await virsh("domstate", NAME)).trim(), "shut off");
      assert.equal((await stored(lv)).spec.state, "Stopped");
      await lv.ok(["up", NAME, "--timeout=60s"]);
      assert.equal((await virsh("domstate", NAME)).trim(), "running");
    });

    await t.step("lv diff exits 0 with nothing to change, 1 with a change, 2 on bad input", async () => {
      const same = await lv.run(["diff", "-f", file]);
      assert.deepEqual([same.code, same.stdout], [0, ""], same.stderr);
      Deno.writeTextFileSync(file, manifest().replace("memory: 128", "memory: 192"));
      const changed = await lv.run(["diff", "-f", file]);
      assert.equal(changed.code, 1, changed.stderr);
      assert.match(changed.stdout, /^- {2}memory: 128\n\+ {2}memory: 192$/m);
      assert.match(changed.stdout, /spec\.memory: applied at the next boot/);
      const badFile = join(lv.home, "bad.yaml");
      Deno.writeTextFileSync(badFile, manifest().replace("memory:", "memroy:"));
      const bad = await lv.run(["diff", "-f", badFile]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /bad\.yaml:9:3: spec\.memroy: unknown field/);
    });

    await t.step("dry runs leave the store and libvirt unchanged", async () => {
      const before = await stored(lv);
      const beforeMem = await maxMemoryKiB();
      lv.virshCalls(); // reset the log
      const client = await lv.ok(["apply", "-f", file, "--dry-run=client"]);
      assert.equal(client.stdout, "domain/ap-web checked (dry run)\n");
      const server = await lv.ok(["apply", "-f", file, "--dry-run=server"]);
      assert.equal(server.stdout, "domain/ap-web configured (dry run)\n");
      assert.deepEqual(mutating(lv.virshCalls()), [], "no mutating virsh command");
      assert.equal((await stored(lv)).resourceVersion, before.resourceVersion);
      assert.equal(await maxMemoryKiB(), beforeMem);
    });

    await t.step(
      "a memory change on a running domain: RestartRequired, then lv reload applies it",
      async () => {
        assert.match((await lv.ok(["apply", "-f", file, "--timeout=60s"])).stdout, /configured/);
        const after = await stored(lv);
        const condition = restartRequired(after.status);
        assert.ok(condition, JSON.stringify(after.status.conditions));
        assert.match(condition.message, /^spec\.memory takes effect at the next boot/);
        assert.match((await lv.ok(["get", "domains"])).stdout, /Running \(restart required\)/);
        assert.equal(await maxMemoryKiB(), 128 * 1024, "the running guest keeps its memory");
        await lv.ok(["reload", NAME, "--timeout=120s"]);
        assert.equal(await maxMemoryKiB(), 192 * 1024);
        assert.equal(restartRequired((await stored(lv)).status), undefined);
      },
    );

    await t.step("apply --restart applies a next-boot change at once", async () => {
      Deno.writeTextFileSync(file, manifest().replace("memory: 128", "memory: 256"));
      await lv.ok(["apply", "-f", file, "--restart", "--timeout=120s"]);
      assert.equal(await maxMemoryKiB(), 256 * 1024);
      assert.equal(restartRequired((await stored(lv)).status), undefined);
    });

    await t.step("lv get -o yaml | lv apply -f - is unchanged", async () => {
      const dump = (await lv.ok(["get", "domains", "-o", "yaml"])).stdout;
      const before = await stored(lv);
      const r = await lv.ok(["apply", "-f", "-", "--timeout=60s"], { stdin: dump });
      assert.equal(r.stdout, "domain/ap-web unchanged\n");
      assert.equal((await stored(lv)).resourceVersion, before.resourceVersion);
    });

    await t.step("lv edit through an $EDITOR script", async () => {
      const editor = join(lv.home, "editor.sh");
      Deno.writeTextFileSync(
        editor,
        "#!/bin/sh\nsed -i 's/^  hostname: .*//; s/^spec:$/spec:\\n  hostname: edited/' \"$1\"\n",
      );
      Deno.chmodSync(editor, 0o755);
      lv.env.LV_EDITOR = editor;
      const r = await lv.ok(["edit", "domain", NAME, "--timeout=60s"]);
      delete lv.env.LV_EDITOR;
      assert.equal(r.stdout, "domain/ap-web edited\n");
      assert.equal((await stored(lv)).spec.hostname, "edited");
      // the file does not set hostname: apply keeps the edit
      assert.equal((await lv.ok(["apply", "-f", file, "--timeout=60s"])).stdout, "domain/ap-web unchanged\n");
      assert.equal((await stored(lv)).spec.hostname, "edited");
    });
  } finally {
    await lv.run(["delete", "-f", file, "--timeout=120s"]);
    lv.cleanup();
  }
});
