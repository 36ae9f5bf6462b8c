/**
 * The README's quick start, run as written: its code blocks' commands, in the lab. (The "A real VM" block is
 * run command by command by tests/e2e/machine_test.ts.)
 */
import assert from "node:assert/strict";
import { requireLab, ROOT, run, virshNames } from "./helpers.ts";

/** Commands of the first two ```sh blocks after "## Quick start", without comments. */
export function quickStartCommands(readme: string): string[][] {
  const section = readme.split("## Quick start")[1].split("\n## ")[0];
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.map((b) => b.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l));
}

Deno.test("README quick start: setup.sh applies examples/basic.yaml; the lv commands shown work", async () => {
  requireLab();
  const [setup, tour] = quickStartCommands(Deno.readTextFileSync(`${ROOT}README.md`));
  assert.deepEqual(setup, ["scripts/setup.sh examples/basic.yaml", "deno task test"]);
  const home = Deno.makeTempDirSync({ prefix: "lv-readme-" });
  const env = { LV_HOME: home, PATH: `/usr/local/bin:${Deno.env.get("PATH")}` };
  const sh = (line: string) => run("bash", ["-c", line], { env, cwd: ROOT });
  try {
    const r = await sh(setup[0]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /domain\/web created/);
    assert.ok((await virshNames("domains")).includes("web"));
    for (const line of tour) {
      assert.match(line, /^lv /);
      const out = await sh(line);
      assert.equal(out.code, 0, `${line}\n${out.stdout}${out.stderr}`);
    }
    assert.ok(!(await virshNames("domains")).includes("web"), "the tour's last command deletes the example");
  } finally {
    await sh("lv delete -f examples/basic.yaml --ignore-not-found");
    Deno.removeSync(home, { recursive: true });
  }
});
