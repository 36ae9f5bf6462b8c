/** lv wait --for=condition=Ready|--for=delete: block until objects reach a condition. */
import { getCondition } from "../api/conditions.ts";
import type { AnyResource } from "../api/types.ts";
import type { ObjectKey } from "../store/store.ts";
import { awaitObjects, type Verdict } from "./await_objects.ts";
import { UsageError } from "./errors.ts";
import { select, show } from "./jsonpath.ts";
import type { Runtime } from "./runtime.ts";

export type WaitFor =
  | { condition: string; status: string }
  | { delete: true }
  | { jsonpath: string; value?: string };

/** jsonpath='{.status.phase}'=Ready (the braces optional): the path and the value wanted, if any. */
function parseJsonpathFor(text: string): WaitFor {
  const braced = text.match(/^(\{[^}]*\})(?:=(.*))?$/s);
  const [path, value] = braced ? [braced[1], braced[2]] : text.split(/=(.*)/s, 2);
  select(path, {}); // a bad path is a usage error now
  return { jsonpath: path, value: value === undefined || value === "" ? undefined : value };
}

export function parseWaitFor(text: string | undefined): WaitFor {
  if (!text) throw new UsageError("--for is required", "e.g. --for=condition=Ready or --for=delete");
  if (text === "delete") return { delete: true };
  if (text.startsWith("jsonpath=")) return parseJsonpathFor(text.slice("jsonpath=".length));
  const m = text.match(/^condition=([A-Za-z]+)(?:=(True|False|Unknown|true|false|unknown))?$/);
  if (!m) {
    throw new UsageError(
      `--for=${text} is not understood`,
      "use --for=condition=NAME[=True|False], --for=jsonpath='{.status.phase}'=Ready or --for=delete",
    );
  }
  const status = m[2] ? m[2][0].toUpperCase() + m[2].slice(1).toLowerCase() : "True";
  return { condition: m[1], status };
}

export async function wait(
  rt: Runtime,
  keys: ObjectKey[],
  forWhat: WaitFor,
  timeoutMs: number,
): Promise<void> {
  const verdict = (obj: AnyResource | undefined): Verdict => {
    if ("delete" in forWhat) return obj ? "pending" : "done";
    if (!obj) return "failed";
    if ("jsonpath" in forWhat) {
      const values = select(forWhat.jsonpath, obj).map(show);
      return values.length > 0 && (forWhat.value === undefined || values.includes(forWhat.value))
        ? "done"
        : "pending";
    }
    const c = getCondition(obj.status, forWhat.condition);
    const current = (obj.status.observedGeneration ?? 0) >= obj.metadata.generation;
    return current && c?.status === forWhat.status ? "done" : "pending";
  };
  const what = "delete" in forWhat
    ? "be deleted"
    : "jsonpath" in forWhat
    ? `have ${forWhat.jsonpath}${forWhat.value === undefined ? "" : `=${forWhat.value}`}`
    : `have condition ${forWhat.condition}=${forWhat.status}`;
  await awaitObjects(rt, keys, verdict, { timeoutMs, what, progress: false });
  for (const key of keys) {
    rt.output.out(`${key.kind.toLowerCase()}/${key.name} condition met\n`);
  }
}
