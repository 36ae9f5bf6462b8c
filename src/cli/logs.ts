/**
 * lv logs NAME [-f]: what the domain printed on its serial console since it was defined (firmware, boot
 * loader, kernel, login prompt), from the log file libvirt writes in $LV_HOME/logs. Readable when SSH
 * never came up; `-f` keeps printing what is appended until interrupted.
 */
import type { Domain } from "../api/types.ts";
import { isLocal } from "../controller/domain/machine_parts.ts";
import { parseDomainXml } from "../libvirt/xml/domain_xml.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

/** Options for {@linkcode domainLogs}. */
export interface LogsOptions {
  namespace: string;
  /** Keep printing what is appended. Default false. */
  follow?: boolean;
  /** How often a followed file is looked at, in ms. Default 250. */
  pollMs?: number;
  /** Ends following (SIGINT in the CLI). Default: never. */
  signal?: AbortSignal;
}

/** The serial log file of a domain, from its definition. */
async function logFile(rt: Runtime, dom: Domain): Promise<string> {
  const lv = rt.libvirtFor(dom);
  const name = dom.metadata.name;
  const xml = await lv.domGet(name);
  if (xml === undefined) throw new CommandFailed(`domain/${name} is not defined in libvirt yet`);
  const file = parseDomainXml(xml).serialLog;
  if (file === undefined) {
    throw new CommandFailed(
      `domain/${name} has no serial log (defined before lv logged consoles: lv reload ${name})`,
    );
  }
  if (!isLocal(lv.uri)) {
    throw new CommandFailed(
      `domain/${name} runs on ${lv.uri}: its serial log is ${file} on that host (lv console ${name} shows the live console)`,
    );
  }
  return file;
}

/** Prints the domain's serial log, and with `follow` what is appended, until `signal` aborts. */
export async function domainLogs(rt: Runtime, name: string, options: LogsOptions): Promise<void> {
  const dom = await rt.store.get({ kind: "Domain", namespace: options.namespace, name }) as
    | Domain
    | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const file = await logFile(rt, dom);
  let offset = 0;
  const decoder = new TextDecoder();
  const readMore = async (): Promise<boolean> => {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    try {
      const size = (await f.stat()).size;
      if (size < offset) offset = 0; // truncated or replaced
      if (size === offset) return true;
      await f.seek(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - offset);
      let read = 0;
      while (read < buf.length) {
        const n = await f.read(buf.subarray(read));
        if (n === null) break;
        read += n;
      }
      offset += read;
      rt.output.out(decoder.decode(buf.subarray(0, read), { stream: true }));
      return true;
    } finally {
      f.close();
    }
  };
  const found = await readMore();
  if (!options.follow) {
    if (!found) rt.output.err(`domain/${name} has printed nothing yet (no ${file})\n`);
    return;
  }
  const pollMs = options.pollMs ?? 250;
  while (!options.signal?.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    await readMore();
  }
}
