/**
 * Shell completion: the scripts `lv completion bash|zsh|fish` print, each loaded in its real shell (bash's
 * function called with COMP_WORDS; zsh's through compinit on a pseudo-terminal, TAB pressed; fish's by
 * `complete -C`) against the real lv (a launcher on PATH running this checkout) and a real store, answer
 * commands, kinds, flags, flag values, object names and files.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { complete } from "../../src/cli/complete.ts";
import { homeWith, lvAt } from "./cli_run.ts";
import { example } from "./harness.ts";

const MOD = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "mod.ts");

/** Where the shells run: PATH with an `lv` launcher of this checkout, a home whose store has objects. */
interface Setup {
  bin: string;
  home: string;
  env: Record<string, string>;
}

const dec = new TextDecoder();

async function shell(cmd: string, args: string[], setup: Setup): Promise<string[]> {
  const out = await new Deno.Command(cmd, { args, env: setup.env, cwd: setup.home }).output().catch((e) => {
    throw new Error(`${cmd} is needed for this test (apt-get install ${cmd}; scripts/packages.sh): ${e}`);
  });
  assert.equal(out.code, 0, dec.decode(out.stderr));
  return dec.decode(out.stdout).split("\n").filter((l) => l);
}

/** COMPREPLY of _lv for the command line `words` (the cursor in the last word). */
function bashComplete(setup: Setup, script: string, words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
  const program = `${script}\nCOMP_WORDS=(lv ${quoted}); COMP_CWORD=${words.length}; _lv; ` +
    `printf '%s\\n' "\${COMPREPLY[@]}"`;
  return shell("bash", ["--norc", "-c", program], setup);
}

/**
 * What zsh offers for `lv WORDS<TAB>`: an interactive zsh on a pseudo-terminal (zpty) with compinit and the
 * script loaded, TAB pressed at the end of the line; compadd is wrapped to print each match zsh accepted
 * (zsh's own matching, _files included), between two marker lines printed before and after completion.
 */
const ZSH_INIT = `PROMPT=
autoload -U compinit && compinit -u -d "$LV_ZCOMPDUMP"
bindkey '^I' complete-word
marker() { echo -E - $'\\0' }
compprefuncs=(marker)
comppostfuncs=(marker exit)
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a hits
  builtin compadd -A hits "$@"
  local h
  for h in $hits; do echo -E - "<match:$h>"; done
  builtin compadd "$@"
}
source "$LV_COMPLETION_SCRIPT"
echo ready
`;

const ZSH_DRIVER = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source \${(q)1}"
local line
integer n=0 markers=0
until [[ $line == ready* ]]; do zpty -r z line || exit 3; (( ++n < 200 )) || exit 4; done
zpty -w z "$2"$'\\t'
while zpty -r z line; do
  if [[ $line == *$'\\0'* ]]; then (( ++markers == 2 )) && break; continue; fi
  (( markers == 1 )) && [[ $line == *'<match:'*'>'* ]] && print -r -- "\${\${line#*<match:}%>*}"
done
zpty -d z
`;

function zshComplete(setup: Setup, script: string, words: string[]): Promise<string[]> {
  const dir = setup.bin;
  Deno.writeTextFileSync(`${dir}/lv.zsh`, script);
  Deno.writeTextFileSync(`${dir}/init.zsh`, ZSH_INIT);
  Deno.writeTextFileSync(`${dir}/driver.zsh`, ZSH_DRIVER);
  const line = ["lv", ...words].join(" ");
  return shell("zsh", ["-f", `${dir}/driver.zsh`, `${dir}/init.zsh`, line], {
    ...setup,
    // compinit's dump file: made by the first question, read by the next ones.
    env: { ...setup.env, LV_COMPLETION_SCRIPT: `${dir}/lv.zsh`, LV_ZCOMPDUMP: `${dir}/zcompdump` },
  });
}

/** What fish offers for `lv WORDS` (complete -C: fish's own completion of a command line). */
async function fishComplete(setup: Setup, script: string, words: string[]): Promise<string[]> {
  Deno.writeTextFileSync(`${setup.bin}/lv.fish`, script);
  const line = ["lv", ...words].join(" ");
  const program = `source ${setup.bin}/lv.fish; complete -C ${JSON.stringify(line)}`;
  return (await shell("fish", ["--no-config", "-c", program], setup)).map((l) => l.split("\t")[0]);
}

/** The command lines asked in every shell, and the answers: commands, kinds, names, flags, values, files. */
const QUESTIONS: [string[], string[]][] = [
  [["des"], ["describe", "destroy"]],
  [["get", "netw"], ["network", "networks"]],
  [["get", "domain", ""], ["web"]],
  [["halt", "w"], ["web"]],
  [["get", "vm", "--no-h"], ["--no-headers"]],
  [["get", "vm", "-o", "ya"], ["yaml"]],
  [["-n", "default", "describe", "net", "b"], ["basic-net"]],
  [["completion", "z"], ["zsh"]],
  [["apply", "-f", "we"], ["web.yaml"]],
];

const SHELLS = { bash: bashComplete, zsh: zshComplete, fish: fishComplete };

for (const [name, ask] of Object.entries(SHELLS)) {
  Deno.test(`lv completion ${name}, loaded in ${name}, answers commands, kinds, flags, values, names and files`, async (t) => {
    const home = await homeWith([example("Domain", "web"), example("Network", "basic-net")]);
    const bin = Deno.makeTempDirSync();
    const setup = {
      bin,
      home,
      env: {
        PATH: `${bin}:${Deno.env.get("PATH")}`,
        HOME: home,
        LV_HOME: home,
        LV_CONNECT: "test:///nowhere",
      },
    };
    try {
      Deno.writeTextFileSync(`${bin}/lv`, `#!/bin/sh\nexec "${Deno.execPath()}" run -A "${MOD}" "$@"\n`);
      Deno.chmodSync(`${bin}/lv`, 0o755);
      Deno.writeTextFileSync(`${home}/web.yaml`, "");
      const script = (await lvAt(home, "completion", name)).stdout;
      for (const [words, expected] of QUESTIONS) {
        await t.step(`lv ${words.join(" ")}<TAB>`, async () => {
          assert.deepEqual((await ask(setup, script, words)).sort(), expected);
        });
      }
    } finally {
      Deno.removeSync(home, { recursive: true });
      Deno.removeSync(bin, { recursive: true });
    }
  });
}

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
