/**
 * spec.cloudInit.userData naming a file on the host: read whole, and checked as cloud-init would read it
 * (#cloud-config must be a YAML mapping), problems placed in that file. Used when a manifest is applied
 * (nothing is written when the file is bad) and again when the seed is made.
 */
import type { Problem } from "../api/problem.ts";
import { userDataProblems } from "./user_data_text.ts";

/** The file's text, or the problems with it (file:line:col, the field path spec.cloudInit.userData). */
export async function readUserDataFile(path: string): Promise<{ text?: string; problems: Problem[] }> {
  const at = { file: path, path: "spec.cloudInit.userData" };
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    return {
      problems: [{
        ...at,
        line: 0,
        column: 0,
        message: `cannot read the user data file: ${(e as Error).message}`,
      }],
    };
  }
  const problems = userDataProblems(text).map((p) => ({
    ...at,
    line: p.line,
    column: p.column,
    message: p.message,
  }));
  return problems.length > 0 ? { problems } : { text, problems };
}
