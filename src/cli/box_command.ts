/** `lv box SUBCOMMAND`: checks the subcommand and its flags, then runs it from box.ts or box_versions.ts. */
import { boxList, boxPrune } from "./box.ts";
import { UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

/** `lv box list|prune|add|outdated|update`, after argument parsing: checks the subcommand and flags, runs it. */
export async function boxCommand(
  rt: Runtime,
  sub: string | undefined,
  options: {
    output?: string;
    allContexts?: boolean;
    dryRun?: boolean;
    timeoutMs?: number;
    /** Positional arguments after the subcommand. */
    args?: string[];
    version?: string;
    namespace?: string;
  },
): Promise<void> {
  if (sub === "add" || sub === "outdated" || sub === "update") {
    const versions = await import("./box_versions.ts");
    if (options.version !== undefined && sub !== "add") {
      throw new UsageError("--version is a flag of lv box add");
    }
    const namespace = options.namespace ?? "default";
    if (sub === "add") return await versions.boxAdd(rt, options.args?.[0], { version: options.version });
    if (sub === "outdated") return await versions.boxOutdated(rt, namespace);
    return await versions.boxUpdate(rt, options.args?.[0], {
      namespace,
      timeoutMs: options.timeoutMs ?? 600_000,
    });
  }
  if (sub === "list") {
    if (options.dryRun) throw new UsageError("--dry-run is a flag of lv box prune");
    const output = options.output ?? "table";
    if (output !== "table" && output !== "wide" && output !== "json") {
      throw new UsageError(
        `-o ${output} is not an output format of lv box list`,
        "use one of: table, wide, json",
      );
    }
    return await boxList(rt, { output, allContexts: options.allContexts });
  }
  if (sub === "prune") {
    if (options.output !== undefined) throw new UsageError("-o is a flag of lv box list");
    return await boxPrune(rt, options);
  }
  throw new UsageError(
    sub ? `unknown box subcommand "${sub}"` : "lv box needs a subcommand",
    "use lv box list, lv box prune [--dry-run], lv box add USER/NAME [--version C], lv box outdated or lv box update NAME",
  );
}
