/** lv completion bash|zsh|fish: the shell completion script (commands, flags, kinds, object names). */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

export const completionCommand = defineCommand({
  name: "completion",
  summary: "print the shell completion script (bash, zsh, fish)",
  synopsis: ["bash|zsh|fish"],
  usage: ["completion bash|zsh|fish"],
  description: `Prints a script completing lv's commands, flags, kinds, contexts and object names (read from
the store as you type). scripts/setup.sh installs the bash one in /etc/bash_completion.d/lv.
  bash: source <(lv completion bash)     (or put it in ~/.bashrc)
  zsh:  source <(lv completion zsh)
  fish: lv completion fish > ~/.config/fish/completions/lv.fish`,
  args: [{ name: "SHELL", kind: "choice", choices: SHELLS }],
  flags: {},
  examples: ["lv completion bash > /etc/bash_completion.d/lv"],
  async run({ args, output }) {
    const { COMPLETION_SCRIPTS } = await import("../completion_scripts.ts");
    const script = args[0] ? COMPLETION_SCRIPTS[args[0]] : undefined;
    if (!script) {
      throw new UsageError(
        args[0] ? `no completion for shell "${args[0]}"` : "lv completion needs a shell",
        `one of: ${SHELLS.join(", ")}`,
      );
    }
    output.out(script);
  },
});
