/**
 * `spec.cloudInit.userData` given as text: either the user data itself (a line of its own starting with
 * `#`: `#cloud-config`, `#!/bin/sh`, `#include`...; or several lines) or the path of a file on the host that
 * holds it. Either is taken as is; only `#cloud-config` is checked, since cloud-init reads it as YAML.
 *
 * @module
 */
import { LineCounter, parseDocument } from "yaml";
import type { PositionTable, Problem } from "../api/problem.ts";
import type { AnyResource } from "../api/types.ts";

/** A problem in user data text, at a 1-based line and column of that text. */
export interface TextProblem {
  line: number;
  column: number;
  message: string;
}

/** Whether the text names a file on the host (one line, not starting with "#") rather than being the data. */
export function isUserDataPath(text: string): boolean {
  return !text.includes("\n") && !text.startsWith("#") && text.trim() !== "";
}

/**
 * What is wrong with user data text cloud-init would reject: `#cloud-config` that is not valid YAML or not
 * a mapping. Other formats (scripts, MIME, includes) are cloud-init's to judge: none reported.
 */
export function userDataProblems(text: string): TextProblem[] {
  if (!/^#cloud-config[ \t]*(\r?\n|$)/.test(text)) return [];
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  // The first issue only: the ones after it are mostly its consequences.
  const [issue] = [...doc.errors, ...doc.warnings];
  if (issue) {
    const pos = counter.linePos(issue.pos[0]);
    const message = issue.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "").trim();
    return [{
      line: pos.line,
      column: pos.col,
      message: `invalid YAML in #cloud-config user data: ${message}`,
    }];
  }
  const contents = doc.contents;
  const value = doc.toJS();
  if (value === null || value === undefined) return [];
  if (typeof value !== "object" || Array.isArray(value)) {
    const pos = counter.linePos(contents?.range?.[0] ?? 0);
    return [{
      line: pos.line,
      column: pos.col,
      message: "#cloud-config user data must be a mapping (keys such as users, write_files, runcmd)",
    }];
  }
  return [];
}

/**
 * The problems of a Domain's #cloud-config `spec.cloudInit.userData` text, placed in the manifest: a
 * multi-line string is a block scalar (`userData: |`) whose text starts on the line after its key, indented
 * past it.
 */
export function userDataTextProblems(resource: AnyResource, table: PositionTable): Problem[] {
  const userData = resource.kind === "Domain" ? resource.spec.cloudInit?.userData : undefined;
  if (typeof userData !== "string" || isUserDataPath(userData)) return [];
  const node = table.get(["spec", "cloudInit", "userData"]);
  const indent = node ? (node.key?.column ?? node.column) + 1 : 0;
  return userDataProblems(userData).map((p) => ({
    file: table.file,
    line: node ? node.line + p.line : 0,
    column: node ? indent + p.column : 0,
    path: "spec.cloudInit.userData",
    message: p.message,
  }));
}
