/** src/api/posix_path.ts gives what node:path gives for POSIX paths. */
import assert from "node:assert/strict";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { dirnamePath, isAbsolutePath, joinPath, resolvePath } from "../../src/api/posix_path.ts";

const CASES: string[][] = [
  ["/a", "b"],
  ["a", "b"],
  ["/a/", "b/"],
  ["/a", "../b"],
  ["a", "..", "..", "b"],
  ["/", "x"],
  ["", ""],
  ["/a//b", "./c"],
  ["a/", ""],
  ["/a/b", "../../.."],
  [".."],
  ["./a"],
  ["a/."],
  ["/root", ".local", "share"],
  ["/var/lib/lv", "ssh", "0123abcd", "cm-1234"],
  ["/a", "/b", "c"],
  ["examples/machine.yaml"],
  ["/"],
  ["a/b/"],
];

Deno.test("joinPath() joins and normalizes like node:path's join", () => {
  for (const parts of CASES) assert.equal(joinPath(...parts), join(...parts), JSON.stringify(parts));
});

Deno.test("resolvePath(), dirnamePath() and isAbsolutePath() give what node:path's resolve, dirname, isAbsolute give", () => {
  for (const parts of CASES) {
    assert.equal(resolvePath(...parts), resolve(...parts), `resolve ${JSON.stringify(parts)}`);
    const one = parts.join("/");
    assert.equal(dirnamePath(one), dirname(one), `dirname ${JSON.stringify(one)}`);
    assert.equal(isAbsolutePath(one), isAbsolute(one), `isAbsolute ${JSON.stringify(one)}`);
  }
  for (
    const p of [
      "/",
      "//",
      "///a",
      "a/",
      "a",
      "/a",
      "/a/",
      "a/b//",
      "//a",
      "a//b",
      "/a//b/",
      "/a/b/c.yaml",
      "./x",
      "../x",
      "",
    ]
  ) {
    assert.equal(dirnamePath(p), dirname(p), `dirname ${JSON.stringify(p)}`);
  }
});
