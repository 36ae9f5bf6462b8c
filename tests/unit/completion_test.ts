/**
 * Shell completion: the bash function `lv completion bash` prints, run in a real bash against the real lv (a
 * launcher on PATH running this checkout) and a real store, answers commands, kinds, flags, flag values,
 * object names and files.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { complete } from "../../src/cli/complete.ts";
import { homeWith, lvAt } from "./cli_run.ts";
import { example } from "./harness.ts";

const MOD = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "mod.ts");

/** COMPREPLY of _lv for the command line `words` (the cursor in the last word). */
async function bashComplete(bin: string, home: string, script: string, words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
  const program = `${script}\nCOMP_WORDS=(lv ${quoted}); COMP_CWORD=${words.length}; _lv; ` +
    `printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = await new Deno.Command("bash", {
    args: ["--norc", "-c", program],
    env: { PATH: `${bin}:${Deno.env.get("PATH")}`, LV_HOME: home, LV_CONNECT: "test:///nowhere" },
    cwd: home,
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l);
}

Deno.test("the bash completion function answers commands, kinds, flags, values, names and files", async () => {
  const home = await homeWith([example("Domain", "web"), example("Network", "basic-net")]);
  const bin = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${bin}/lv`, `#!/bin/sh\nexec "${Deno.execPath()}" run -A "${MOD}" "$@"\n`);
    Deno.chmodSync(`${bin}/lv`, 0o755);
    Deno.writeTextFileSync(`${home}/web.yaml`, "");
    const script = (await lvAt(home, "completion", "bash")).stdout;
    const ask = (...words: string[]) => bashComplete(bin, home, script, words);
    assert.deepEqual(await ask("des"), ["describe", "destroy"]);
    assert.deepEqual(await ask("get", "netw"), ["network", "networks"]);
    assert.deepEqual(await ask("get", "domain", ""), ["web"]);
    assert.deepEqual(await ask("halt", "w"), ["web"]);
    assert.deepEqual(await ask("get", "vm", "--no-h"), ["--no-headers"]);
    assert.deepEqual(await ask("get", "vm", "-o", "ya"), ["yaml"]);
    assert.deepEqual(await ask("-n", "default", "describe", "net", "b"), ["basic-net"]);
    assert.deepEqual(await ask("completion", "z"), ["zsh"]);
    assert.deepEqual(await ask("apply", "-f", "we"), ["web.yaml"]);
  } finally {
    Deno.removeSync(home, { recursive: true });
    Deno.removeSync(bin, { recursive: true });
  }
});

Deno.test("lv completion prints a script for bash, zsh and fish; another shell is a usage error", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await lvAt(Deno.makeTempDirSync(), "completion", shell);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /lv __complete/);
  }
  const bad = await lvAt(Deno.makeTempDirSync(), "completion", "tcsh");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no completion for shell "tcsh"\nhint: one of: bash, zsh, fish/);
  assert.deepEqual(await complete(["snapshot", "re"]), ["revert"]);
  assert.deepEqual(
    await complete(["config", "use-context", "--"]).then((c) => c.includes("--context")),
    true,
  );
});
