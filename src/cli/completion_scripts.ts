/**
 * The shell scripts `lv completion SHELL` prints. Each asks `lv __complete WORDS...` for the candidates of
 * the word under the cursor (see complete.ts); the answer `:file` means: complete a file name.
 */

const BASH = [
  "# lv completion for bash: source <(lv completion bash)",
  "_lv() {",
  '  local cur="${COMP_WORDS[COMP_CWORD]}"',
  "  local IFS=$'\\n'",
  "  local answers",
  '  answers=($(lv __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))',
  '  if [[ "${answers[0]}" == ":file" ]]; then',
  '    COMPREPLY=($(compgen -f -- "$cur"))',
  "  else",
  '    COMPREPLY=("${answers[@]}")',
  "  fi",
  "}",
  "complete -o default -F _lv lv",
  "",
].join("\n");

const ZSH = [
  "#compdef lv",
  '# lv completion for zsh: lv completion zsh > "${fpath[1]}/_lv", or source <(lv completion zsh)',
  "_lv() {",
  "  local -a answers",
  '  answers=("${(@f)$(lv __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")',
  '  if [[ "${answers[1]}" == ":file" ]]; then',
  "    _files",
  "  else",
  '    compadd -- "${answers[@]}"',
  "  fi",
  "}",
  "compdef _lv lv",
  "",
].join("\n");

const FISH =
  "# lv completion for fish: lv completion fish > ~/.config/fish/completions/lv.fish\nfunction __lv_complete\n  set -l words (commandline -opc)[2..-1] (commandline -ct)\n  set -l answers (lv __complete $words 2>/dev/null)\n  if test \"$answers[1]\" = \":file\"\n    __fish_complete_path (commandline -ct)\n  else\n    printf '%s\\n' $answers\n  end\nend\ncomplete -c lv -f -a '(__lv_complete)'\n";

export const COMPLETION_SCRIPTS: Record<string, string> = { bash: BASH, zsh: ZSH, fish: FISH };
