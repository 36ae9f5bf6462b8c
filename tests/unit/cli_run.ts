/** Running the CLI's main() in tests: captured output, a temp $LV_HOME, a store filled beforehand. */
import type { AnyResource } from "../../src/api/types.ts";
import { main } from "../../src/cli/main.ts";
import type { Output } from "../../src/cli/runtime.ts";
import { storePath } from "../../src/cli/runtime.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";

export function capture(): Output & { stdout: string; stderr: string } {
  const o = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
  };
  return o;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lv ARGS` with $LV_HOME = `home` and a libvirt URI nothing answers on. */
export async function lvAt(home: string, ...args: string[]): Promise<Run> {
  Deno.env.set("LV_HOME", home);
  Deno.env.set("LV_CONNECT", "test:///nowhere");
  const o = capture();
  const code = await main(args, o);
  return { code, stdout: o.stdout, stderr: o.stderr };
}

/** Runs `lv ARGS` in a fresh, empty $LV_HOME. */
export async function lv(...args: string[]): Promise<Run> {
  const home = Deno.makeTempDirSync();
  try {
    return await lvAt(home, ...args);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
}

/** A temp $LV_HOME whose store holds `objects`; remove it with Deno.removeSync(home, { recursive: true }). */
export async function homeWith(objects: AnyResource[]): Promise<string> {
  const home = Deno.makeTempDirSync({ prefix: "lv-cli-" });
  const store = new SqliteStore(storePath(home));
  try {
    for (const obj of objects) await store.create(obj);
  } finally {
    store.close();
  }
  return home;
}
