/** Shell quoting for commands run on the guest: the one of config/ (lv's ssh wrapper needs it too). */
export { shellQuote } from "../config/shell_quote.ts";
