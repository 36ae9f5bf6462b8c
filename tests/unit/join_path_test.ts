/** joinPath() gives what node:path's join gives for POSIX paths. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { joinPath } from "../../src/config/join_path.ts";

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
];

Deno.test("joinPath() joins and normalizes like node:path's join", () => {
  for (const parts of CASES) assert.equal(joinPath(...parts), join(...parts), JSON.stringify(parts));
});
