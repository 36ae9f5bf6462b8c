/** Reading -f files: directories, stdin, parsing, validation against the set and the store. */
import { dirnamePath as dirname, joinPath as join, resolvePath as resolve } from "../api/posix_path.ts";
import { formatProblem, type Problem } from "../api/problem.ts";
import { type AnyResource, type Kind, KINDS } from "../api/types.ts";
import { absolutize } from "../manifest/absolutize.ts";
import { hostPathProblems } from "../manifest/host_paths.ts";
import { readUserDataFile } from "../manifest/user_data_file.ts";
import { isUserDataPath } from "../manifest/user_data_text.ts";
import { parseManifests } from "../manifest/parse.ts";
import type { SpecDefaults } from "../api/validate.ts";
import { validateReferences } from "../api/validate_references.ts";
import type { Store } from "../store/store.ts";
import { InvalidInputError, UsageError } from "./errors.ts";

async function expand(path: string, recursive: boolean): Promise<string[]> {
  if (path === "-") return ["-"];
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new UsageError(
      `file "${path}" does not exist`,
      "pass -f with a YAML file, a directory of them, or - for stdin",
    );
  }
  if (!info.isDirectory) return [path];
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (entry.isFile && /\.(ya?ml|json)$/.test(entry.name)) files.push(join(path, entry.name));
    if (entry.isDirectory && recursive) files.push(...await expand(join(path, entry.name), true));
  }
  return files.sort();
}

/** Options for {@linkcode loadManifests}. */
export interface LoadOptions {
  specDefaults?: SpecDefaults;
  checkContexts?: boolean;
  /** Read directories recursively (-R). Default false. */
  recursive?: boolean;
}

/**
 * Reads, parses and validates every file; throws InvalidInputError listing every problem when any exists,
 * so nothing is written unless all of it is valid. Without a store (`--dry-run=client`), references are
 * checked only among the files.
 */
export async function loadManifests(
  paths: string[],
  store: Store | undefined,
  options: LoadOptions = {},
): Promise<AnyResource[]> {
  if (paths.length === 0) {
    throw new UsageError("no input: pass -f FILE", "example: lv apply -f examples/basic.yaml");
  }
  const files = (await Promise.all(paths.map((p) => expand(p, options.recursive ?? false)))).flat();
  const resources: AnyResource[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    const text = file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
    const parsed = parseManifests(text, file === "-" ? "<stdin>" : file, options);
    problems.push(...parsed.problems);
    for (const r of parsed.resources) {
      absolutize(r, file === "-" ? Deno.cwd() : dirname(resolve(file)));
      problems.push(...await hostPathProblems(r));
    }
    resources.push(...parsed.resources);
  }
  problems.push(...await userDataFileProblems(resources));
  if (problems.length === 0 && store) {
    const existing = new Map<string, AnyResource>();
    for (const kind of KINDS) {
      for (const obj of await store.list(kind)) {
        existing.set(`${kind}/${obj.metadata.namespace}/${obj.metadata.name}`, obj);
      }
    }
    problems.push(
      ...validateReferences(
        resources,
        (kind: Kind, ns: string, name: string) => existing.get(`${kind}/${ns}/${name}`),
        { contexts: options.checkContexts },
      ),
    );
  }
  if (problems.length > 0) throw new InvalidInputError(problems.map(formatProblem));
  if (resources.length === 0) throw new UsageError(`no resources found in ${files.join(", ")}`);
  return resources;
}

/** Problems in the user data files Domains name (spec.cloudInit.userData as a path). */
async function userDataFileProblems(resources: AnyResource[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const r of resources) {
    const userData = r.kind === "Domain" ? r.spec.cloudInit?.userData : undefined;
    if (typeof userData === "string" && isUserDataPath(userData)) {
      problems.push(...(await readUserDataFile(userData)).problems);
    }
  }
  return problems;
}
