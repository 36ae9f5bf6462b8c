/**
 * A batch of guest commands as one POSIX sh script (GuestSession.batch over SSH): the script is sent on the
 * shell's standard input (no length limit on a command line), each command's input is printed into it by
 * printf from octal escapes (no base64 or heredoc needed in the guest), and each command's exit code, output
 * and error output come back framed by a random boundary on the script's standard output.
 */
import { shellQuote } from "./shell.ts";
import type { RunResult } from "./session.ts";

/**
 * One command of a batch: argv and what it reads on its standard input (nothing: /dev/null); with `mayFail`
 * its non-zero exit does not end a batch that stops on failure, nor do the exit codes in `okCodes` (a read's
 * "no such file").
 */
export interface BatchCommand {
  argv: string[];
  stdin?: string;
  mayFail?: boolean;
  okCodes?: number[];
}

/** A printf format printing exactly `text` (UTF-8): every byte but a few plain ones as an octal escape. */
export function printfFormat(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9 _.,:=+@\/-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return out;
}

/** A random boundary: no command's output contains it by chance. */
export function newBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `lv-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A command's shell words. `sh -c SCRIPT NAME ARGS...` (the put, read and list scripts) runs as a subshell
 * of the batch's own shell, `(set -- ARGS...; SCRIPT)`: a fork, not a new shell started, which is most of
 * what each such command costs a booting TCG guest (~0.1 s). A subshell resets the batch's traps and keeps
 * its changes (set, umask, cd, exit, exec) to itself, as `sh -c` would.
 */
function shellWords(argv: string[]): string {
  if (argv[0] === "sh" && argv[1] === "-c" && argv.length >= 3) {
    return `(set -- ${argv.slice(4).map(shellQuote).join(" ")}; ${argv[2]}\n)`;
  }
  return argv.map(shellQuote).join(" ");
}

/**
 * The script: for command i it prints "B:i:out\n", the command's output and "\nB:i:code:N\n" on its
 * standard output, and "B:i:err\n", the command's error output and "\nB:i:end\n" on its error output (the
 * session's own: no temp file, no program to read one back). With `stopOnFailure` it ends after the first
 * command that failed (see BatchCommand). It starts no program of its own.
 */
export function batchScript(
  commands: BatchCommand[],
  options: { boundary: string; stopOnFailure?: boolean },
): string {
  const b = options.boundary;
  const lines: string[] = [];
  commands.forEach((c, i) => {
    const command = shellWords(c.argv);
    const input = c.stdin === undefined
      ? `${command} </dev/null`
      : `printf '${printfFormat(c.stdin)}' | ${command}`;
    lines.push(
      `printf '%s\\n' '${b}:${i}:out'; printf '%s\\n' '${b}:${i}:err' >&2`,
      `{ ${input}; }`,
      "lv_c=$?",
      `printf '\\n%s:%d\\n' '${b}:${i}:code' "$lv_c"; printf '\\n%s\\n' '${b}:${i}:end' >&2`,
    );
    if (options.stopOnFailure && !c.mayFail) {
      lines.push(
        [0, ...c.okCodes ?? []].map((code) => `[ "$lv_c" -eq ${code} ]`).join(" || ") + " || exit 0",
      );
    }
  });
  return `${lines.join("\n")}\n`;
}

/**
 * The results of a batch script's output and error output, one per command: undefined for a command that did
 * not run (after a failure with stopOnFailure, or the script stopped).
 */
export function parseBatchOutput(
  output: { stdout: string; stderr: string },
  boundary: string,
  count: number,
): (RunResult | undefined)[] {
  const results: (RunResult | undefined)[] = [];
  let at = 0;
  let errAt = 0;
  for (let i = 0; i < count; i++) {
    const out = framed(output.stdout, at, `${boundary}:${i}:out\n`, `\n${boundary}:${i}:code:`);
    const codeLineEnd = out ? output.stdout.indexOf("\n", out.end) : -1;
    if (!out || codeLineEnd < 0) {
      results.push(undefined);
      continue;
    }
    at = codeLineEnd + 1;
    const err = framed(output.stderr, errAt, `${boundary}:${i}:err\n`, `\n${boundary}:${i}:end\n`);
    if (err) errAt = err.end;
    results.push({
      code: Number(output.stdout.slice(out.end, codeLineEnd)),
      stdout: out.text,
      stderr: err?.text ?? "",
    });
  }
  return results;
}

/** The text between `head` and `tail` in `text` from `from` on, and where `tail` ends; undefined: not there. */
function framed(text: string, from: number, head: string, tail: string) {
  const start = text.indexOf(head, from);
  const tailAt = start < 0 ? -1 : text.indexOf(tail, start + head.length);
  if (tailAt < 0) return undefined;
  return { text: text.slice(start + head.length, tailAt), end: tailAt + tail.length };
}
