/**
 * The CommonJS global ssh2's bundled code reads when it loads (its poly1305 module asks for `__dirname`): Deno
 * gives it to npm packages it loads itself, a bundle (`deno bundle`: setup.sh's install, the release's lv.js)
 * does not, and ssh2 failed there with "__dirname is not defined". Imported before ssh2 wherever ssh2 is.
 */
const globals = globalThis as { __dirname?: string };
globals.__dirname ??= import.meta.dirname ?? "/";
