/**
 * Install without a checkout: `deno task bundle`'s one file and setup.sh's chunks (/usr/local/lib/lv) run
 * from another directory with no deno.json, no node_modules and no source beside it, and loads the modules
 * commands import when they run (YAML, JSONPath, the controllers).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Runs `deno ARGS`, or the program ARGS[0] names when it is a path. */
async function run(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const [program, rest] = args[0].startsWith("/") ? [args[0], args.slice(1)] : [Deno.execPath(), args];
  const out = await new Deno.Command(program, { args: rest, ...options }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** `deno task bundle`'s lv.js, run as a release would; setup.sh's chunks (scripts/bundle.sh), by its launcher. */
const FORMS = [
  {
    name: "one file, lv.js",
    build: (dir: string) =>
      run(["bundle", "--external", "*.node", "-o", `${dir}/lv.js`, "mod.ts"], { cwd: ROOT }),
    command: (dir: string) => [Deno.execPath(), "run", "-A", "--no-config", `${dir}/lv.js`],
  },
  {
    name: "chunks, mod.js",
    build: (dir: string, entry?: string, env?: Record<string, string>) =>
      run([join(ROOT, "scripts", "bundle.sh"), dir, ...(entry ? [entry] : [])], { cwd: ROOT, env }),
    command: (dir: string) => [`${dir}/lv`],
  },
];

for (const form of FORMS) {
  Deno.test(`the bundled lv (${form.name}) runs away from the checkout`, () => runsAway(form));
}

/**
 * A fresh machine has none of lv's npm packages in Deno's cache, and `deno bundle` reads their packuments but
 * not their files ("Cannot find module .../yaml/2.9.1/index.js": setup.sh failed). The tests run in a network
 * namespace without npm: a registry on loopback serves the packuments of this machine's cache and records
 * the packages' tarballs asked for, without serving them. bundle.sh must ask for them before bundling.
 */
Deno.test("setup.sh's chunks on a fresh machine: bundle.sh fetches lv's npm packages before bundling", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-fresh-" });
  const info = JSON.parse((await run(["info", "--json"], { cwd: ROOT })).stdout);
  const tarballs: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname.slice(1));
    if (path.endsWith(".tgz")) {
      tarballs.push(path.split("/").pop()!);
      return new Response("not here", { status: 404 });
    }
    try {
      const packument = JSON.parse(
        Deno.readTextFileSync(`${info.npmCache}/registry.npmjs.org/${path}/registry.json`),
      );
      for (const v of Object.values(packument.versions) as { dist: { tarball: string } }[]) {
        v.dist.tarball = v.dist.tarball.replace(
          "https://registry.npmjs.org/",
          `http://127.0.0.1:${server.addr.port}/`,
        );
      }
      return Response.json(packument);
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const built = await FORMS[1].build(`${dir}/lv`, undefined, {
      DENO_DIR: `${dir}/deno-cache`,
      NPM_CONFIG_REGISTRY: `http://127.0.0.1:${server.addr.port}/`,
    });
    assert.notEqual(built.code, 0, "no tarball was served");
    assert.doesNotMatch(built.stderr, /ERR_MODULE_NOT_FOUND|bundling failed/, "the bundler ran without them");
    assert.ok(tarballs.some((t) => /^(yaml|ssh2|fast-xml-parser)-[\d.]+\.tgz$/.test(t)), tarballs.join(" "));
  } finally {
    await server.shutdown();
    Deno.removeSync(dir, { recursive: true });
  }
});

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
    for (const form of FORMS) {
      const out = `${dir}/${form === FORMS[0] ? "one" : "chunks"}`;
      const built = form === FORMS[0]
        ? await run(["bundle", "--external", "*.node", "-o", `${out}/lv.js`, `${dir}/probe.ts`], {
          cwd: ROOT,
        })
        : await form.build(out, `${dir}/probe.ts`);
      assert.equal(built.code, 0, built.stderr);
      const ran = await run(form.command(out), { cwd: dir });
      assert.equal(ran.stdout, "ssh-ed25519\n", `${form.name}: ${ran.stderr}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("setup.sh's launcher turns off Deno's update check (no query to dl.deno.land from a command of lv)", async () => {
  // Deno asks dl.deno.land for its latest release from any process living ~0.5 s (strace of `lv version`:
  // a DNS query for it), and may print an upgrade notice: not lv's to send or print.
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-env-" });
  try {
    Deno.writeTextFileSync(`${dir}/probe.ts`, `console.log(Deno.env.get("DENO_NO_UPDATE_CHECK"));\n`);
    const built = await FORMS[1].build(`${dir}/out`, `${dir}/probe.ts`);
    assert.equal(built.code, 0, built.stderr);
    const ran = await run(FORMS[1].command(`${dir}/out`), { cwd: dir });
    assert.equal(ran.stdout, "1\n", ran.stderr);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function runsAway(form: (typeof FORMS)[number]) {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-" });
  try {
    const built = await form.build(dir);
    assert.equal(built.code, 0, built.stderr);
    const [program, ...prefix] = form.command(dir);
    const lv = (...args: string[]) =>
      run([program, ...prefix, ...args], {
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

Deno.test("setup.sh's chunks: lv get loads only its own (no other command's, no node:module at the top); YAML starts no Node process", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lv-bundle-lazy-" });
  try {
    const built = await FORMS[1].build(dir);
    assert.equal(built.code, 0, built.stderr);
    const chunks = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".js"));
    const top = chunks.filter((n) =>
      /^import [^;]* from "node:module";/m.test(Deno.readTextFileSync(`${dir}/${n}`))
    );
    assert.deepEqual(
      top,
      [],
      "a chunk imports node:module at its top: every command would start Node's layer",
    );
    // Deno's debug log names every file it reads (without lazy dynamic imports: all chunks, before starting).
    const r = await run([`${dir}/lv`, "get", "domains", "-o", "name"], {
      cwd: dir,
      env: { LV_HOME: `${dir}/home`, LV_CONNECT: "test:///nowhere", DENO_LOG: "debug" },
    });
    assert.equal(r.code, 0, r.stderr);
    const read = new Set(
      [...r.stderr.matchAll(/fetch\S* - specifier: file:\/\/\S+\/([^/\s]+\.js)$/gm)].map((m) => m[1]),
    );
    assert.ok(read.has("mod.js"), `Deno's debug log changed: ${r.stderr.slice(0, 500)}`);
    const others = [...read].filter((n) =>
      /^(apply|reconciler|network_reconciler|controller|doctor)-/.test(n)
    );
    assert.deepEqual(others, [], "lv get read other commands' chunks");
    assert.ok(read.size < chunks.length / 3, `lv get read ${read.size} of ${chunks.length} chunks`);

    // The YAML library's CommonJS build does not start Node's process (~30 ms): not for a dry run of a
    // manifest, nor for YAML output.
    for (
      const args of [["apply", "--dry-run=client", "-f", join(ROOT, "examples", "machine.yaml")], [
        "get",
        "vm",
        "-o",
        "yaml",
      ]]
    ) {
      const y = await run([`${dir}/lv`, ...args], {
        cwd: dir,
        env: { LV_HOME: `${dir}/home`, LV_CONNECT: "test:///nowhere", DENO_LOG: "debug" },
      });
      assert.equal(y.code, 0, y.stderr);
      assert.match(y.stdout, /checked \(dry run\)|^apiVersion: v1/m);
      assert.deepEqual(y.stderr.match(/\bnode:(process|module)\b/g) ?? [], [], `lv ${args.join(" ")}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
