/** lv status [NAME...]: Vagrant's word for lv get domains. */
import { defineCommand } from "../command.ts";
import { getCommand } from "./get.ts";

export const statusCommand = defineCommand({
  name: "status",
  summary: "list domains, as vagrant status does (lv get domains)",
  synopsis: ["[NAME]"],
  usage: ["status [NAME...] [-o FORMAT] [-l SELECTOR] [-A]"],
  description: "The same as lv get domains [NAME...], with the same flags.",
  args: [{ name: "NAME", kind: "domain", optional: true, repeatable: true }],
  flags: getCommand.flags,
  examples: ["lv status", "lv status web -o wide"],
  run(invocation) {
    return getCommand.run({ ...invocation, args: ["domains", ...invocation.args] });
  },
});
