/**
 * Install without a checkout: `deno task bundle`'s one file and setup.sh's chunks (/usr/local/lib/lv) run
 * from another directory with no deno.json, no node_modules and no source beside it, and loads the modules
 * commands import when they run (YAML, JSONPath, the controllers).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function run(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const out = await new Deno.Command(Deno.execPath(), { args, ...options }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** `deno task bundle`'s lv.js (the release's), and setup.sh's chunks (mod.js loads each as a command needs it). */
const FORMS = [
  { name: "one file, lv.js", args: (dir: string) => ["-o", `${dir}/lv.js`], entry: "lv.js" },
  { name: "chunks, mod.js", args: (dir: string) => ["--code-splitting", "--outdir", dir], entry: "mod.js" },
];

for (const form of FORMS) {
  Deno.test(`the bundled lv (${form.name}) runs away from the checkout`, () => runsAway(form));
}

Deno.test("no module imports an npm package dynamically (chunks would give it only its default export)", () => {
  const offending: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (path.endsWith(".ts")) {
        const text = Deno.readTextFileSync(path);
        for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']/g)) {
          if (!/^(\.|node:)/.test(m[1])) offending.push(`${path.slice(ROOT.length + 1)}: import("${m[1]}")`);
        }
      }
    }
  };
  walk(join(ROOT, "src"));
  assert.deepEqual(offending, []);
});

Deno.test("ssh2 loads in both bundles (lv makes each Domain's SSH key with it)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-ssh2-" });
  try {
    const keyFiles = pathToFileURL(join(ROOT, "src", "guest", "key_files.ts")).href;
    Deno.writeTextFileSync(
      `${dir}/probe.ts`,
      `const { generateKeyPair } = await import(${JSON.stringify(keyFiles)});\n` +
        `console.log((await generateKeyPair("probe")).public.split(" ")[0]);\n`,
    );
    const config = ["--config", join(ROOT, "deno.json")];
    for (
      const [out, entry] of [[["-o", `${dir}/one/probe.js`], "one/probe.js"], [
        ["--code-splitting", "--outdir", `${dir}/chunks`],
        "chunks/probe.js",
      ]]
    ) {
      const built = await run(["bundle", ...config, "--external", "*.node", ...out, `${dir}/probe.ts`], {
        cwd: ROOT,
      });
      assert.equal(built.code, 0, built.stderr);
      const ran = await run(["run", "-A", "--no-config", `${dir}/${entry}`], { cwd: dir });
      assert.equal(ran.stdout, "ssh-ed25519\n", `${entry}: ${ran.stderr}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function runsAway(form: (typeof FORMS)[number]) {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-" });
  try {
    const built = await run(["bundle", "--external", "*.node", ...form.args(dir), "mod.ts"], {
      cwd: ROOT,
    });
    assert.equal(built.code, 0, built.stderr);
    const lv = (...args: string[]) =>
      run(["run", "-A", "--no-config", `${dir}/${form.entry}`, ...args], {
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
}
