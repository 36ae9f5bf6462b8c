/**
 * Install without a checkout: `deno task bundle`'s one file (what setup.sh puts in /usr/local/lib/lv) runs
 * from another directory with no deno.json, no node_modules and no source beside it, and loads the modules
 * commands import when they run (YAML, JSONPath, the controllers).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function run(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const out = await new Deno.Command(Deno.execPath(), { args, ...options }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("the bundled lv.js runs away from the checkout", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-" });
  try {
    const built = await run(["bundle", "--external", "*.node", "-o", `${dir}/lv.js`, "mod.ts"], {
      cwd: ROOT,
    });
    assert.equal(built.code, 0, built.stderr);
    const lv = (...args: string[]) =>
      run(["run", "-A", "--no-config", `${dir}/lv.js`, ...args], {
        cwd: dir,
        env: { LV_HOME: `${dir}/home`, LV_CONNECT: "test:///nowhere" },
      });
    assert.match((await lv("--version")).stdout, /^lv \d+\.\d+\.\d+\n$/);
    const yaml = await lv("get", "vm", "-o", "yaml");
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stdout, /^apiVersion: v1\nkind: List\nitems: \[\]\n$/);
    const apply = await lv("apply", "-f", join(ROOT, "examples", "basic.yaml"));
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /test driver/);
    assert.equal((await lv("get", "all", "-o", "jsonpath={.items}")).stdout, "[]");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
