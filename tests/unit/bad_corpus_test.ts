/**
 * The bad-input corpus: every file in tests/bad/ is a broken manifest whose
 * first line says what the problem must say:
 *
 *     # expect: spec.memory: must be between 16Mi and 16Ti
 *
 * and whose offending line carries a `# <-` marker (or, where YAML allows no
 * comment there, a `# line: N` comment in the header says which line). The
 * header also says `# deno-fmt-ignore-file`: the files are broken on purpose. The test parses and
 * validates the file (references checked with an empty store) and asserts a
 * problem containing that text on that line.
 */
import assert from "node:assert/strict";
import { formatProblem, type Problem } from "../../src/api/problem.ts";
import { NO_LOOKUP, validateReferences } from "../../src/api/validate_references.ts";
import { MAX_DOCUMENTS, MAX_MANIFEST_BYTES, parseManifests } from "../../src/manifest/parse.ts";

const DIR = new URL("../bad/", import.meta.url);

/** Everything lv apply would report for one file with nothing in the store. */
export function checkManifest(text: string, file: string): Problem[] {
  const parsed = parseManifests(text, file);
  const seen = new Set(parsed.problems.map(formatProblem));
  const references = validateReferences(parsed.resources, NO_LOOKUP).filter((p) =>
    !seen.has(formatProblem(p))
  );
  return [...parsed.problems, ...references];
}

interface Case {
  file: string;
  text: string;
  expect: string;
  line: number;
}

function loadCorpus(): Case[] {
  const cases: Case[] = [];
  for (const entry of Deno.readDirSync(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".yaml")) continue;
    const text = Deno.readTextFileSync(new URL(entry.name, DIR));
    const lines = text.split("\n");
    const expect = /^# expect: (.+)$/.exec(lines[0])?.[1];
    assert.ok(expect, `${entry.name}: the first line must be "# expect: <text>"`);
    const header = lines.slice(1, lines.findIndex((l) => !l.startsWith("#")));
    const explicit = header.map((l) => /^# line: (\d+)$/.exec(l)).find((m) => m !== null) ?? null;
    const marked = lines.flatMap((l, i) => i > 0 && /#\s*<-\s*$/.test(l) ? [i + 1] : []);
    assert.ok(
      (explicit !== null) !== (marked.length === 1),
      `${entry.name}: mark exactly one line with "# <-", or give "# line: N" in the header`,
    );
    cases.push({ file: entry.name, text, expect, line: explicit ? Number(explicit[1]) : marked[0] });
  }
  return cases.sort((a, b) => a.file.localeCompare(b.file));
}

const corpus = loadCorpus();

Deno.test("bad corpus has at least 60 files", () => {
  assert.ok(corpus.length >= 60, `only ${corpus.length} files`);
});

Deno.test("parseManifests() reports each bad corpus file's expected problem on its line", async (t) => {
  for (const c of corpus) {
    await t.step(c.file, () => {
      const problems = checkManifest(c.text, c.file);
      const formatted = problems.map(formatProblem);
      const match = problems.find((p) => formatProblem(p).includes(c.expect));
      assert.ok(match, `no problem contains ${JSON.stringify(c.expect)}; got:\n  ${formatted.join("\n  ")}`);
      assert.equal(match.line, c.line, `wrong line for: ${formatProblem(match)}`);
      assert.equal(match.file, c.file);
      assert.ok(match.column >= 1, `no column: ${formatProblem(match)}`);
    });
  }
});

Deno.test("parseManifests() rejects a file over the size limit with one problem, quickly", () => {
  const doc = "apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata:\n  name: b\nspec:\n  source: /x.qcow2\n# " +
    "x".repeat(1000) + "\n---\n";
  const text = doc.repeat(Math.ceil((MAX_MANIFEST_BYTES + 1) / doc.length));
  const started = performance.now();
  const { resources, problems } = parseManifests(text, "huge.yaml");
  assert.ok(performance.now() - started < 1000);
  assert.deepEqual(resources, []);
  assert.equal(problems.length, 1);
  assert.match(
    formatProblem(problems[0]),
    /^huge\.yaml:1:1: file is too large: 4\.0 MiB, the limit is 4\.0 MiB \(split it/,
  );
});

Deno.test("parseManifests() counts multi-byte characters against the size limit", () => {
  const text = "# " + "é".repeat(MAX_MANIFEST_BYTES / 2) + "\n";
  assert.equal(text.length < MAX_MANIFEST_BYTES, true);
  const { problems } = parseManifests(text, "accents.yaml");
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /file is too large/);
});

Deno.test("parseManifests() rejects more than 1000 documents with one problem at the first one too many", () => {
  const doc = (i: number) =>
    `apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata:\n  name: b${i}\nspec:\n  source: /x.qcow2\n`;
  const text = Array.from({ length: MAX_DOCUMENTS + 1 }, (_, i) => doc(i)).join("---\n");
  const { resources, problems } = parseManifests(text, "many.yaml");
  assert.deepEqual(resources, []);
  assert.equal(problems.length, 1);
  assert.equal(
    formatProblem(problems[0]),
    `many.yaml:${
      MAX_DOCUMENTS * 7 + 1
    }:1: file has 1001 documents, the limit is 1000 (split it into several files)`,
  );
  // exactly the limit is fine
  const ok = parseManifests(
    Array.from({ length: MAX_DOCUMENTS }, (_, i) => doc(i)).join("---\n"),
    "many.yaml",
  );
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.resources.length, MAX_DOCUMENTS);
});

Deno.test("parseManifests() survives deeply nested input", () => {
  const depth = 100_000;
  const text = "apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata: {name: b}\nspec:\n  source: " +
    "[".repeat(depth) +
    "]".repeat(depth) + "\n";
  const { resources, problems } = parseManifests(text, "deep.yaml");
  assert.deepEqual(resources, []);
  assert.ok(problems.length >= 1);
});

Deno.test("parseManifests() expands no alias bomb, even a generated bigger one", () => {
  const lines = ["a: &a [" + Array(20).fill('"lol"').join(", ") + "]"];
  for (let i = 1; i < 20; i++) {
    lines.push(`l${i}: &l${i} [` + Array(20).fill(i === 1 ? "*a" : `*l${i - 1}`).join(", ") + "]");
  }
  const started = performance.now();
  const { problems } = parseManifests(lines.join("\n") + "\n", "bomb.yaml");
  assert.ok(performance.now() - started < 2000);
  assert.ok(
    problems.some((p) => p.message.startsWith("too many aliases")),
    problems.map(formatProblem).join("\n"),
  );
});

const SNAPSHOT_FILES = [
  "ip_outside_network.yaml",
  "kind_lowercase.yaml",
  "name_xml_injection.yaml",
  "syntax_bad_indentation.yaml",
  "unknown_field_vagrant_name.yaml",
  "memory_not_whole_mib.yaml",
  "overlay_collides_with_volume.yaml",
  "alias_bomb.yaml",
];

Deno.test("formatProblem() output for representative bad files", async (t) => {
  for (const file of SNAPSHOT_FILES) {
    await t.step(file, async (t) => {
      const c = corpus.find((c) => c.file === file);
      assert.ok(c, `${file} is not in the corpus`);
      await t.assertSnapshot(checkManifest(c.text, c.file).map(formatProblem).join("\n"), {
        serializer: String,
      });
    });
  }
});
