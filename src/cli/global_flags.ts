/**
 * Global flags before the command (`lv --context lab get domains`, `lv -n dev -o yaml get vm`): moved after
 * the command word, where its parser reads them with its own flags.
 */
import { COMMON_FLAGS, type FlagSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

/** Flags that may come before the command: the common ones and -o (taken only by commands that have it). */
const GLOBAL: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  output: { type: "string", short: "o", description: "output format" },
};

function globalFlag(arg: string): FlagSpec | undefined {
  const long = arg.match(/^--([^=]+)/);
  if (long) return GLOBAL[long[1]];
  const short = arg.match(/^-([^-])/);
  return short ? Object.values(GLOBAL).find((f) => f.short === short[1]) : undefined;
}

/** Splits argv into the command word and its arguments, the leading global flags moved after the word. */
export function hoistGlobalFlags(argv: readonly string[]): { word: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith("-") && argv[i] !== "-" && argv[i] !== "--") {
    const flag = globalFlag(argv[i]);
    if (!flag) break;
    const inline = argv[i].includes("=") || /^-[^-]./.test(argv[i]);
    leading.push(argv[i++]);
    if (flag.type !== "boolean" && !inline) {
      if (i >= argv.length) {
        throw new UsageError(`${argv[i - 1]} needs a value`, "e.g. lv --context lab get vm");
      }
      leading.push(argv[i++]);
    }
  }
  return { word: argv[i], rest: [...leading, ...argv.slice(i + 1)] };
}
