/** lv apply's dry runs, -R, List round trips, and lv diff's output and exit codes, through main(). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";

interface Lab {
  dir: string;
  lv(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  write(name: string, text: string): string;
  head(): Promise<number>;
  virshCalls(): string[];
}

async function withLab(fn: (lab: Lab) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lv-apply-cli-" });
  const saved = ["LV_HOME", "LV_CONNECT", "LV_VIRSH_LOG"].map((k) => [k, Deno.env.get(k)] as const);
  Deno.env.set("LV_HOME", join(dir, "home"));
  Deno.env.set("LV_CONNECT", "test:///default");
  Deno.env.set("LV_VIRSH_LOG", join(dir, "virsh.log"));
  const lab: Lab = {
    dir,
    lv: async (...args) => {
      const o = { stdout: "", stderr: "" };
      const code = await main(args, { out: (t) => void (o.stdout += t), err: (t) => void (o.stderr += t) });
      return { code, ...o };
    },
    write: (name, text) => {
      const path = join(dir, name);
      Deno.mkdirSync(join(path, ".."), { recursive: true });
      Deno.writeTextFileSync(path, text);
      return path;
    },
    head: async () => {
      const store = new SqliteStore(join(dir, "home", "store.db"));
      try {
        return await store.head();
      } finally {
        store.close();
      }
    },
    virshCalls: () => {
      try {
        return Deno.readTextFileSync(join(dir, "virsh.log")).split("\n").filter((l) => l);
      } catch {
        return [];
      }
    },
  };
  try {
    await fn(lab);
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    await Deno.remove(dir, { recursive: true });
  }
}

const WEB = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
  labels: {app: web}
spec:
  communicator: none
  memory: 256
`;

const NET = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata:
  name: lan
spec:
  ipv4: {address: 10.9.0.1}
  dhcp:
    hosts:
    - {mac: "52:54:00:00:00:01", ip: 10.9.0.10}
`;

Deno.test("lv apply --dry-run=client checks the files without a store or libvirt", async () => {
  await withLab(async (lab) => {
    const file = lab.write("web.yaml", WEB);
    const ok = await lab.lv("apply", "-f", file, "--dry-run=client");
    assert.deepEqual([ok.code, ok.stdout], [0, "domain/web checked (dry run)\n"]);
    assert.equal(
      Deno.statSync(lab.dir).isDirectory && [...Deno.readDirSync(lab.dir)].length,
      1,
      "no home made",
    );
    const bad = await lab.lv(
      "apply",
      "-f",
      lab.write("bad.yaml", WEB.replace("memory", "memroy")),
      "--dry-run=client",
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml:8:3: spec\.memroy: unknown field/);
    const mode = await lab.lv("apply", "-f", file, "--dry-run=maybe");
    assert.equal(mode.code, 2);
    assert.deepEqual(lab.virshCalls(), []);
  });
});

Deno.test("lv apply --dry-run=server merges against the store and writes nothing", async () => {
  await withLab(async (lab) => {
    const file = lab.write("web.yaml", WEB);
    assert.equal((await lab.lv("apply", "-f", file, "--wait=false")).code, 0);
    const head = await lab.head();
    const applyCalls = lab.virshCalls().length; // apply checks libvirt answers before it writes
    lab.write("web.yaml", WEB.replace("256", "1024"));
    const dry = await lab.lv("apply", "-f", file, "--dry-run=server");
    assert.deepEqual([dry.code, dry.stdout], [0, "domain/web configured (dry run)\n"]);
    const created = await lab.lv("apply", "-f", lab.write("lan.yaml", NET), "--dry-run=server");
    assert.deepEqual([created.code, created.stdout], [0, "network/lan created (dry run)\n"]);
    lab.write("web.yaml", WEB.replace("spec:\n", "spec:\n  box: nosuch\n"));
    const missing = await lab.lv("apply", "-f", file, "--dry-run=server");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /spec\.box: no Box "nosuch"/);
    assert.equal(await lab.head(), head, "no resourceVersion moved");
    assert.deepEqual(lab.virshCalls().slice(applyCalls), []);
  });
});

Deno.test("lv diff prints what apply would change and exits 0, 1 or 2", async (t) => {
  await withLab(async (lab) => {
    const web = lab.write("web.yaml", WEB);
    const lan = lab.write("lan.yaml", NET);
    assert.equal((await lab.lv("apply", "-f", web, "-f", lan, "--wait=false")).code, 0);
    const head = await lab.head();
    const applyCalls = lab.virshCalls().length; // apply checks libvirt answers before it writes
    const same = await lab.lv("diff", "-f", web, "-f", lan);
    assert.deepEqual([same.code, same.stdout], [0, ""]);

    lab.write("web.yaml", WEB.replace("256", "1024").replace("{app: web}", "{app: web, tier: front}"));
    lab.write(
      "lan.yaml",
      NET.replace("10.9.0.10", "10.9.0.11").replace("10.9.0.1}", "10.9.0.1, prefix: 16}"),
    );
    const changed = await lab.lv("diff", "-f", web, "-f", lan);
    assert.equal(changed.code, 1);
    await t.assertSnapshot(changed.stdout, { serializer: String });

    lab.write("new.yaml", NET.replace("name: lan", "name: other"));
    const created = await lab.lv("diff", "-f", join(lab.dir, "new.yaml"));
    assert.equal(created.code, 1);
    assert.match(
      created.stdout,
      /^--- \/dev\/null\n\+\+\+ network\/other \(after apply\)\n@@ -0,0 \+1,\d+ @@\n/,
    );

    const bad = await lab.lv("diff", "-f", lab.write("bad.yaml", "kind: Domain\n"));
    assert.equal(bad.code, 2);
    assert.equal(await lab.head(), head, "diff wrote nothing");
    assert.deepEqual(lab.virshCalls().slice(applyCalls), []);
  });
});

Deno.test("lv diff shows a refused change", async (t) => {
  await withLab(async (lab) => {
    const vol = lab.write(
      "v.yaml",
      "apiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata: {name: v}\nspec: {size: 2Gi}\n",
    );
    assert.equal((await lab.lv("apply", "-f", vol, "--wait=false")).code, 0);
    lab.write(
      "v.yaml",
      "apiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata: {name: v}\nspec: {size: 1Gi}\n",
    );
    const shrink = await lab.lv("diff", "-f", vol);
    assert.equal(shrink.code, 1);
    await t.assertSnapshot(shrink.stdout, { serializer: String });
    const refused = await lab.lv("apply", "-f", vol, "--wait=false");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /v\.yaml:4:\d+: spec\.size: volume\/v: cannot shrink a volume/);
  });
});

Deno.test("lv get -o yaml|json of several objects applies again unchanged; -f DIR -R", async () => {
  await withLab(async (lab) => {
    lab.write("tree/web.yaml", WEB);
    lab.write("tree/nets/lan.yml", NET);
    lab.write("tree/nets/notes.txt", "not a manifest");
    const flat = await lab.lv("apply", "-f", join(lab.dir, "tree"), "--wait=false");
    assert.deepEqual([flat.code, flat.stdout], [0, "domain/web created\n"]);
    const deep = await lab.lv("apply", "-f", join(lab.dir, "tree"), "-R", "--wait=false");
    assert.deepEqual([deep.code, deep.stdout], [0, "network/lan created\ndomain/web unchanged\n"]);
    assert.equal((await lab.lv("halt", "web", "--wait=false")).code, 0);
    for (const format of ["yaml", "json"]) {
      const got = await lab.lv("get", "domains,networks", "-o", format);
      assert.equal(got.code, 0);
      assert.match(got.stdout, /List/);
      const again = await lab.lv("apply", "-f", lab.write(`dump.${format}`, got.stdout), "--wait=false");
      assert.deepEqual([again.code, again.stdout], [0, "domain/web unchanged\nnetwork/lan unchanged\n"]);
    }
    // the dump did not replace what the file said: applying the file keeps web stopped
    const file = await lab.lv("apply", "-f", join(lab.dir, "tree", "web.yaml"), "--wait=false");
    assert.deepEqual([file.code, file.stdout], [0, "domain/web unchanged\n"]);
    const web = await lab.lv("get", "domain", "web", "-o", "json");
    assert.equal(JSON.parse(web.stdout).spec.state, "Stopped");
  });
});

/** An $EDITOR script: keeps a copy of each file it is given in DIR/seen.N, then runs `sed -i EXPR`. */
function editorScript(lab: Lab, ...exprs: string[]): string {
  const script = [
    "#!/bin/sh",
    `n=$(ls ${lab.dir} | grep -c '^seen')`,
    `cp "$1" ${lab.dir}/seen.$n`,
    // first run: the first expression; later runs: the second (fixing what the first broke)
    `if [ "$n" = 0 ]; then sed -i '${exprs[0]}' "$1"; else sed -i '${exprs[1] ?? exprs[0]}' "$1"; fi`,
  ].join("\n");
  const path = lab.write("editor.sh", script + "\n");
  Deno.chmodSync(path, 0o755);
  return path;
}

async function withEditor(editor: string, fn: () => Promise<void>): Promise<void> {
  Deno.env.set("LV_EDITOR", editor);
  try {
    await fn();
  } finally {
    Deno.env.delete("LV_EDITOR");
  }
}

Deno.test("lv edit validates on save, reopens an invalid edit with its problems, and keeps apply's record", async (t) => {
  await withLab(async (lab) => {
    const web = lab.write("web.yaml", WEB);
    assert.equal((await lab.lv("apply", "-f", web, "--wait=false")).code, 0);
    const get = async () => JSON.parse((await lab.lv("get", "domain", "web", "-o", "json")).stdout);

    await t.step("an unchanged file changes nothing", async () => {
      const head = await lab.head();
      await withEditor(editorScript(lab, "s/^$//"), async () => {
        const r = await lab.lv("edit", "domain", "web", "--wait=false");
        assert.deepEqual([r.code, r.stdout], [0, "Edit cancelled, no changes made.\n"]);
      });
      assert.equal(await lab.head(), head);
      for (const f of Deno.readDirSync(lab.dir)) {
        if (f.name.startsWith("seen")) Deno.removeSync(join(lab.dir, f.name));
      }
    });

    await t.step("an invalid edit reopens with the problem at the top, at the right line", async () => {
      await withEditor(
        editorScript(lab, "s/^  cpus: 1$/  cpus: two\\n  hostname: edited/", "s/cpus: two/cpus: 2/"),
        async () => {
          const r = await lab.lv("edit", "domain", "web", "--wait=false");
          assert.deepEqual([r.code, r.stdout], [0, "domain/web edited\n"]);
        },
      );
      const reopened = Deno.readTextFileSync(join(lab.dir, "seen.1")).split("\n");
      const error = /^# error: (.*domain-web\.yaml):(\d+):(\d+): spec\.cpus: must be an integer/.exec(
        reopened[1],
      );
      assert.ok(error, reopened.slice(0, 3).join("\n"));
      assert.equal(reopened[Number(error[2]) - 1], "  cpus: two", "the line number points at the field");
      const dom = await get();
      assert.deepEqual([dom.spec.cpus, dom.spec.hostname], [2, "edited"]);
      for (const f of Deno.readDirSync(lab.dir)) {
        if (f.name.startsWith("seen")) Deno.removeSync(join(lab.dir, f.name));
      }
    });

    await t.step("apply keeps what the edit set and the file does not", async () => {
      const r = await lab.lv("apply", "-f", web, "--wait=false");
      assert.deepEqual([r.code, r.stdout], [0, "domain/web unchanged\n"]);
      assert.equal((await get()).spec.hostname, "edited");
    });

    await t.step("an immutable field is refused with file:line:field", async () => {
      const head = await lab.head();
      await withEditor(
        editorScript(lab, "s/storagePoolName: default/storagePoolName: other/", "s/^$//"),
        async () => {
          const r = await lab.lv("edit", "domain", "web", "--wait=false");
          assert.equal(r.code, 2);
          assert.match(
            r.stderr,
            /domain-web\.yaml:\d+:\d+: spec\.storagePoolName: domain\/web: cannot change: delete and re-create/,
          );
          const kept = /the edit is kept in (\S+)/.exec(r.stderr);
          assert.ok(kept && Deno.readTextFileSync(kept[1]).includes("storagePoolName: other"));
          await Deno.remove(join(kept[1], ".."), { recursive: true });
        },
      );
      assert.equal(await lab.head(), head);
    });
  });
});

Deno.test("a List's items are checked with the lines of the file they are in", async () => {
  await withLab(async (lab) => {
    const list = lab.write(
      "list.yaml",
      `apiVersion: v1\nkind: List\nitems:\n${
        (WEB + "---\n" + NET).split("---\n").map((doc) => "- " + doc.trimEnd().split("\n").join("\n  ")).join(
          "\n",
        )
      }\n`.replace("10.9.0.10", "10.9.9.300"),
    );
    const r = await lab.lv("apply", "-f", list, "--dry-run=client");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /list\.yaml:20:40: spec\.dhcp\.hosts\[0\]\.ip: /);
  });
});

Deno.test("lv get -o yaml prints machineVirtualSize so that it applies again unchanged", async () => {
  await withLab(async (lab) => {
    const file = lab.write(
      "boxed.yaml",
      `apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata: {name: tiny}\nspec: {source: ${lab.dir}/tiny.img}\n---\n` +
        WEB.replace("spec:\n", "spec:\n  box: tiny\n  machineVirtualSize: 3\n"),
    );
    assert.equal((await lab.lv("apply", "-f", file, "--wait=false")).code, 0);
    const dump = (await lab.lv("get", "domain", "web", "-o", "yaml")).stdout;
    assert.match(dump, /machineVirtualSize: 3Gi/);
    const again = await lab.lv("apply", "-f", lab.write("dump.yaml", dump), "--wait=false");
    assert.deepEqual([again.code, again.stdout], [0, "domain/web unchanged\n"], again.stderr);
  });
});

Deno.test("lv edit refuses a 9p folder on a Domain whose libvirt is remote, at the edited file's line, as apply does", async () => {
  await withLab(async (lab) => {
    const web = lab.write("web.yaml", WEB);
    assert.equal((await lab.lv("apply", "-f", web, "--wait=false")).code, 0);
    const head = await lab.head();
    await withEditor(
      editorScript(
        lab,
        "s/^  syncedFolders: \\[\\]$/  syncedFolders: [{source: \\/srv, target: \\/srv, type: 9p}]/",
      ),
      async () => {
        const r = await lab.lv(
          "--connect",
          "qemu+ssh://lab.invalid/system",
          "edit",
          "domain",
          "web",
          "--wait=false",
        );
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          /domain-web\.yaml:\d+:\d+: spec\.syncedFolders\[0\]\.type: domain\/web: a 9p folder needs libvirt on this machine; qemu\+ssh:\/\/lab\.invalid\/system is on another host/,
        );
        const reopened = Deno.readTextFileSync(join(lab.dir, "seen.1"));
        assert.match(reopened, /^# error: .*a 9p folder needs libvirt on this machine/m);
        const kept = /the edit is kept in (\S+)/.exec(r.stderr);
        assert.ok(kept);
        await Deno.remove(join(kept[1], ".."), { recursive: true });
      },
    );
    assert.equal(await lab.head(), head, "nothing written");
    const local = await lab.lv("get", "domain", "web", "-o", "json");
    assert.deepEqual(JSON.parse(local.stdout).spec.syncedFolders, []);
  });
});
