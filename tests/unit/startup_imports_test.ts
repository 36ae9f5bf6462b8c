/**
 * What every command loads before it runs (mod.ts's static imports) and what `lv get` adds (the runtime, the
 * listing): no npm package and no `node:` module but sqlite, whose loading costs 10-35 ms of each start
 * (Node's compatibility layer; bench item 2). Read from `deno info --json`: dynamic imports are not followed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Info {
  roots: string[];
  redirects?: Record<string, string>;
  modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
}

/** Every specifier `entries` reach through static imports. */
async function staticClosure(entries: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const info: Info = JSON.parse(new TextDecoder().decode(out.stdout));
    const modules = new Map(info.modules.map((m) => [m.specifier, m]));
    const stack = [...info.roots];
    while (stack.length > 0) {
      const popped = stack.pop()!;
      const s = info.redirects?.[popped] ?? popped;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of modules.get(s)?.dependencies ?? []) {
        if (d.code && !d.isDynamic) stack.push(d.code.specifier);
      }
    }
  }
  return seen;
}

function outside(specifiers: Set<string>, allowed: string[]): string[] {
  return [...specifiers].filter((s) => /^(node|npm):/.test(s) && !allowed.some((a) => s.startsWith(a)));
}

Deno.test("mod.ts loads no npm package and no node: module before a command runs", async () => {
  const closure = await staticClosure(["mod.ts"]);
  assert.ok(
    [...closure].some((s) => s.endsWith("/src/cli/command_loaders.ts")),
    "the walk reached the commands",
  );
  assert.deepEqual(outside(closure, []), []);
  // Only the declaration of the command named loads (command_loaders.ts), not the whole table.
  assert.deepEqual([...closure].filter((s) => /\/src\/cli\/commands(\.ts|\/)/.test(s)), []);
});

/** The libvirt classes (the Libvirt wrapper, virsh sessions): ~45 KB that a command without libvirt need not load. */
const LIBVIRT_CLASSES = /\/src\/libvirt\/(libvirt|session_virsh|virsh_session)\.ts$/;

Deno.test("lv get's modules add only node:sqlite, and not the libvirt classes", async () => {
  const closure = await staticClosure([
    "src/cli/store_runtime.ts",
    "src/cli/get.ts",
    "src/cli/get_watch.ts",
    "src/cli/events.ts",
    "src/cli/commands/get.ts",
    "src/cli/output_format.ts",
    "src/store/sqlite_store.ts", // loaded when the store is opened (lv version opens none)
  ]);
  assert.ok([...closure].some((s) => s.endsWith("/src/store/sqlite_store.ts")), "the walk reached the store");
  assert.deepEqual(outside(closure, ["node:sqlite"]), []);
  assert.deepEqual(
    [...closure].filter((s) => LIBVIRT_CLASSES.test(s) || s.endsWith("/src/cli/runtime.ts")),
    [],
  );
});

Deno.test("lv version asks this machine's daemon without the runtime or the libvirt classes", async () => {
  const closure = await staticClosure([
    "src/cli/commands/version.ts",
    "src/cli/selected_connection.ts",
    "src/libvirt/daemon_version.ts",
  ]);
  assert.ok([...closure].some((s) => s.endsWith("/src/config/config.ts")), "the walk reached the config");
  assert.deepEqual(outside(closure, []), []);
  assert.deepEqual(
    [...closure].filter((s) => LIBVIRT_CLASSES.test(s) || /\/src\/(cli\/runtime|store\/)/.test(s)),
    [],
  );
});

Deno.test("lv apply loads the controllers and the XML library only when it has to wait (not for a no-op)", async () => {
  const closure = await staticClosure(["src/cli/apply.ts", "src/cli/commands/apply.ts"]);
  assert.ok([...closure].some((s) => s.endsWith("/src/manifest/parse.ts")), "the walk reached the parser");
  assert.deepEqual([...closure].filter((s) => /\/src\/controller\/|fast-xml-parser|ssh2/.test(s)), []);
  assert.deepEqual(outside(closure, ["npm:/yaml@"]), []);
});

/** The lv files a run of the CLI from the checkout read (Deno's debug log names each file it fetches). */
export async function filesRead(args: string[], env: Record<string, string>): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, ...args],
    env: { ...env, DENO_LOG: "debug" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr.slice(-2000));
  const read = [...stderr.matchAll(/fetch\S* - specifier: file:\/\/(\S+\.ts)$/gm)].map((m) => m[1]);
  assert.ok(read.some((f) => f.endsWith("/mod.ts")), `Deno's debug log changed: ${stderr.slice(0, 500)}`);
  return read;
}

Deno.test("lv get reads neither the full runtime nor the libvirt classes", async () => {
  const home = Deno.makeTempDirSync({ prefix: "lv-get-reads-" });
  try {
    const read = await filesRead(["get", "domains"], { LV_HOME: home, LV_CONNECT: "test:///default" });
    assert.ok(read.some((f) => f.endsWith("/src/cli/get.ts")), "the run reached lv get");
    assert.deepEqual(read.filter((f) => LIBVIRT_CLASSES.test(f) || f.endsWith("/src/cli/runtime.ts")), []);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
