/**
 * The flag grammar of node:util's `parseArgs` in strict mode with positionals allowed (`--name value`,
 * `--name=value`, `-n value`, `-nvalue`, `-abc` for booleans, repeatable flags collected), with its error
 * messages, here because loading node:util starts Node's compatibility layer: about 10 ms of every command's
 * start (bench item 2, "startup"). `--` is handled by the caller.
 *
 * @module
 */

/** A flag for the parser: a string (taking a value) or a boolean, its one-letter form, whether repeatable. */
export interface FlagGrammar {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | boolean[]>;
  positionals: string[];
}

/** Parses `args`; throws an Error whose message is parseArgs's ("Unknown option '--x'. ...") on bad input. */
export function parseFlags(args: readonly string[], options: Record<string, FlagGrammar>): ParsedFlags {
  const byShort = new Map(Object.entries(options).flatMap(([n, o]) => o.short ? [[o.short, n]] : []));
  const values: ParsedFlags["values"] = {};
  const positionals: string[] = [];
  const store = (name: string, value: string | boolean) => {
    if (!options[name].multiple) values[name] = value;
    else values[name] = [...(values[name] as (string | boolean)[] ?? []), value] as string[] | boolean[];
  };
  const take = (name: string, shown: string, inline: string | undefined, i: number): number => {
    const option = options[name];
    const both = option.short ? `-${option.short}, --${name}` : `--${name}`;
    if (option.type === "boolean") {
      if (inline !== undefined) throw new Error(`Option '${both}' does not take an argument`);
      store(name, true);
      return i;
    }
    if (inline !== undefined) {
      store(name, inline);
      return i;
    }
    if (i + 1 >= args.length) throw new Error(`Option '${both} <value>' argument missing`);
    const value = args[i + 1];
    if (value.length > 1 && value.startsWith("-")) {
      const example = shown.startsWith("--") ? `'${shown}=-XYZ'` : `'--${name}=-XYZ' or '${shown}-XYZ'`;
      throw new Error(
        `Option '${shown}' argument is ambiguous.\nDid you forget to specify the option argument for ` +
          `'${shown}'?\nTo specify an option argument starting with a dash use ${example}.`,
      );
    }
    store(name, value);
    return i + 1;
  };
  const unknown = (shown: string) =>
    new Error(
      `Unknown option '${shown}'. To specify a positional argument starting with a '-', place it at the end ` +
        `of the command after '--', as in '-- ${JSON.stringify(shown)}`,
    );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!Object.hasOwn(options, name)) throw unknown(`--${name}`);
      i = take(name, `--${name}`, eq < 0 ? undefined : arg.slice(eq + 1), i);
    } else if (arg.length > 1 && arg.startsWith("-")) {
      for (let c = 1; c < arg.length; c++) {
        const name = byShort.get(arg[c]);
        if (name === undefined) throw unknown(`-${arg[c]}`);
        const last = c === arg.length - 1;
        if (options[name].type === "string" && !last) {
          i = take(name, `-${arg[c]}`, arg.slice(c + 1), i);
          break;
        }
        i = take(name, `-${arg[c]}`, undefined, i);
      }
    } else positionals.push(arg);
  }
  return { values, positionals };
}
