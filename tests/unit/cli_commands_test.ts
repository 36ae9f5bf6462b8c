/**
 * The command declarations: what the CLI entry loads before a command runs, the README's commands table,
 * and the parser's defaults and checks.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "../../src/cli/command.ts";
import { COMMAND_LOADERS, loadCommand } from "../../src/cli/command_loaders.ts";
import { COMMANDS, findCommand } from "../../src/cli/commands.ts";
import { commandsTable, replaceCommandsTable } from "../../src/cli/commands_table.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { helpText, usageText } from "../../src/cli/help.ts";
import { main } from "../../src/cli/main.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Modules reachable from `entry` through static imports (what loads before any command runs). */
async function staticClosure(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", entry], stderr: "null" })
    .output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    for (const d of bySpecifier.get(resolved)?.dependencies ?? []) {
      if (d.code && !d.isDynamic) visit(d.code.specifier);
    }
  };
  visit(graph.modules.find((m) => m.specifier.endsWith(entry))!.specifier);
  return [...seen];
}

Deno.test("the CLI entry loads no command declaration, controller, ssh2, YAML or XML library before a command runs", async () => {
  const loaded = await staticClosure("src/cli/main.ts");
  assert.ok(loaded.some((s) => s.endsWith("/src/cli/command.ts")), "the walk reached the parser");
  const heavy = loaded.filter((s) =>
    /\/src\/cli\/commands(\.ts|\/)|\/src\/controller\/|ssh2|yaml|fast-xml-parser|\/src\/guest\/ssh_client/
      .test(s)
  );
  assert.deepEqual(heavy, []);
});

Deno.test("command_loaders.ts loads each command of the table by its name and aliases, and nothing else", async () => {
  const names = COMMANDS.flatMap((c) => [c.name, ...c.aliases ?? []]);
  assert.deepEqual(Object.keys(COMMAND_LOADERS).sort(), [...names].sort());
  for (const command of COMMANDS) {
    for (const name of [command.name, ...command.aliases ?? []]) {
      assert.equal(await loadCommand(name), command);
    }
  }
});

Deno.test("an unknown command word still gets the table's suggestion", async () => {
  await assert.rejects(loadCommand("gett"), (e) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, 'unknown command "gett"');
    assert.match(e.hint ?? "", /did you mean 'lv get'\?/);
    return true;
  });
});

Deno.test("README's commands table is the one the declarations generate (deno task readme)", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  assert.equal(readme, replaceCommandsTable(readme, commandsTable(COMMANDS)));
});

Deno.test("parseCommandLine applies defaults, reads durations and booleans, and refuses bad values", () => {
  const apply = findCommand("apply");
  const defaults = parseCommandLine(apply, ["-f", "a.yaml", "-f", "b.yaml"]);
  assert.deepEqual(defaults.flags.filename, ["a.yaml", "b.yaml"]);
  assert.equal(defaults.flags.wait, true);
  assert.equal(defaults.flags.timeout, 600_000);
  assert.equal(defaults.flags.namespace, "default");
  assert.deepEqual([...defaults.given], ["filename"]);
  const given = parseCommandLine(apply, ["--wait=false", "--timeout", "90s", "-n", "x", "--", "rest"]);
  assert.equal(given.flags.wait, false);
  assert.equal(given.flags.timeout, 90_000);
  assert.equal(given.flags.namespace, "x");
  assert.deepEqual(given.rest, ["rest"]);
  assert.equal(parseCommandLine(apply, ["--wait"]).flags.wait, true);
  assert.equal(parseCommandLine(findCommand("controller"), ["--workers=8"]).flags.workers, 8);
  const refused: [string, string[], RegExp][] = [
    ["apply", ["--wait=maybe"], /^--wait=maybe must be true or false$/],
    ["apply", ["--timeout=soon"], /^--timeout=soon is not a duration$/],
    ["controller", ["--workers=many"], /^--workers=many is not a whole number$/],
    ["get", ["--colour"], /^unknown flag '--colour'$/],
  ];
  for (const [name, args, message] of refused) {
    assert.throws(() => parseCommandLine(findCommand(name), args), (e) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("unknown commands and flags suggest the nearest one", () => {
  assert.throws(
    () => findCommand("aply"),
    (e: UsageError) => e.hint?.startsWith("did you mean 'lv apply'?") ?? false,
  );
  assert.throws(
    () => parseCommandLine(findCommand("get"), ["--selectr=a=b"]),
    (e: UsageError) => e.hint === "did you mean --selector? see 'lv get --help'",
  );
  assert.throws(
    () => parseCommandLine(findCommand("delete"), ["--ignore-notfound"]),
    (e: UsageError) => e.hint === "did you mean --ignore-not-found? see 'lv delete --help'",
  );
});

Deno.test("every command has a summary, usage, and flags with descriptions; names are unique", () => {
  const names = COMMANDS.flatMap((c) => [c.name, ...c.aliases ?? []]);
  assert.equal(new Set(names).size, names.length);
  for (const c of COMMANDS) {
    assert.ok(c.summary && c.usage.length > 0, c.name);
    assert.ok(c.usage.every((u) => u.startsWith(`${c.name} `) || u === c.name || c.name === "help"), c.name);
    for (const [flag, spec] of Object.entries(c.flags)) {
      assert.ok(spec.description, `${c.name} --${flag}`);
      if (spec.of) {
        assert.ok(c.subcommands?.some((s) => s.name === spec.of), `${c.name} --${flag} of ${spec.of}`);
      }
    }
    if (c.listedWith) assert.ok(names.includes(c.listedWith), c.name);
  }
});

Deno.test("lv help and lv help reload say the same of reload: folders again and only run: always provisioners", () => {
  const reload = findCommand("reload");
  const listed = helpText(COMMANDS).split("\n").find((l) => l.startsWith("  reload "))!;
  for (const text of [listed, usageText(reload)]) {
    assert.match(text, /run: always/);
    assert.doesNotMatch(text, /provision again|every provisioner/);
  }
});

Deno.test("lv CMD --help and lv help CMD print the same usage for every command, exit 0", async () => {
  for (const command of COMMANDS) {
    const outputs: string[] = [];
    for (const args of [[command.name, "--help"], ["help", command.name]]) {
      let out = "";
      const code = await main(args, { out: (t) => void (out += t), err: (t) => void (out += t) });
      assert.equal(code, 0, args.join(" "));
      outputs.push(out);
    }
    assert.match(outputs[0], new RegExp(`^Usage: lv ${command.name === "help" ? "help" : command.name}\\b`));
    assert.equal(outputs[1], outputs[0], command.name);
    for (const [flag, spec] of Object.entries(command.flags)) {
      assert.ok(outputs[0].includes(`--${flag}`), `${command.name} --help lists --${flag}`);
      if (spec.short) {
        assert.ok(outputs[0].includes(`-${spec.short}, --${flag}`), `${command.name} -${spec.short}`);
      }
    }
  }
});
