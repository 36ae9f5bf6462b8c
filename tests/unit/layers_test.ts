/**
 * The import rules of ARCHITECTURE.md, checked on the source: each folder of src/ imports only the folders
 * below it, so the map stays true as the code moves.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dirname!, "../../src");

/** Which top-level folders of src/ each folder may import (its own is always allowed). */
const ALLOWED: Record<string, string[]> = {
  api: [],
  manifest: ["api"],
  store: ["api"],
  libvirt: ["api"],
  box: ["api"],
  config: ["api", "libvirt"],
  guest: ["api", "config", "libvirt", "store"],
  controller: ["api", "store", "libvirt", "box", "config", "guest", "manifest"],
  cli: ["api", "store", "libvirt", "box", "config", "guest", "manifest", "controller"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Relative module specifiers of static imports, re-exports and string-literal dynamic imports (not comments). */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  text = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (const m of text.matchAll(pattern)) found.push(m[1]);
  return found;
}

function folderOf(file: string): string {
  return relative(SRC, file).split("/")[0];
}

Deno.test("importsOf() finds static, re-exported and dynamic relative imports", () => {
  const text = `import { a } from "../api/x.ts";\nexport { b } from "./y.ts";\n` +
    `const m = await import("../cli/z.ts");\nimport "./side.ts";\nimport x from "npm:yaml";\n` +
    `/** run imports await import("../x.ts") */\n// import { c } from "../d.ts";`;
  assert.deepEqual(importsOf(text), ["../api/x.ts", "./y.ts", "../cli/z.ts", "./side.ts"]);
});

Deno.test("every folder of src/ imports only the folders ARCHITECTURE.md allows", () => {
  const broken: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!(from in ALLOWED)) {
      broken.push(`${relative(SRC, file)}: folder "${from}" is not in the map`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC + "/")) continue;
      const to = folderOf(target);
      if (to !== from && !ALLOWED[from].includes(to)) broken.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(broken, []);
});
