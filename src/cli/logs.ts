/**
 * lv logs NAME [-f]: what the domain printed on its serial console since it was defined (firmware, boot
 * loader, kernel, login prompt), from the log libvirt writes: a file in $LV_HOME/logs, or on a remote host
 * a volume in the Domain's pool read through libvirt (controller/domain/serial_log.ts). Readable when SSH
 * never came up; `-f` keeps printing what is appended until interrupted.
 */
import type { Domain } from "../api/types.ts";
import { isLocal, serialLogVolume } from "../controller/domain/serial_log.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { parseDomainXml } from "../libvirt/xml/domain_xml.ts";
import { parseVolumeXml } from "../libvirt/xml/volume_xml.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

/** Options for {@linkcode domainLogs}. */
export interface LogsOptions {
  namespace: string;
  /** Keep printing what is appended. Default false. */
  follow?: boolean;
  /** How often a followed log is looked at, in ms. Default 250 (1000 on a remote host). */
  pollMs?: number;
  /** Ends following (SIGINT in the CLI). Default: never. */
  signal?: AbortSignal;
}

/** Where a domain's serial log is read: a file here, or a volume of a remote host's pool. */
interface LogSource {
  /** The log in messages: the file, or the volume on the host. */
  where: string;
  /** The log's size now; undefined while it does not exist. */
  size(): Promise<number | undefined>;
  /** `length` bytes from `offset` (fewer at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function localSource(file: string): LogSource {
  return {
    where: file,
    size: async () => {
      try {
        return (await Deno.stat(file)).size;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    },
    read: async (offset, length) => {
      using f = await Deno.open(file).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return undefined; // removed since size() looked
        throw e;
      });
      if (f === undefined) return new Uint8Array();
      await f.seek(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(length);
      let read = 0;
      while (read < buf.length) {
        const n = await f.read(buf.subarray(read));
        if (n === null) break;
        read += n;
      }
      return buf.subarray(0, read);
    },
  };
}

/** The log volume on a remote host, read through libvirt (vol-download into a private temporary file). */
function volumeSource(lv: Libvirt, pool: string, volume: string): LogSource {
  return {
    where: `volume ${volume} of pool ${pool} on ${lv.uri}`,
    size: async () => {
      const xml = await lv.volGet(pool, volume);
      return xml === undefined ? undefined : parseVolumeXml(xml).capacity;
    },
    read: async (offset, length) => {
      const tmp = await Deno.makeTempFile({ prefix: "lv-logs-" });
      try {
        await lv.volDownload(pool, volume, tmp, { offset, length });
        return await Deno.readFile(tmp);
      } finally {
        await Deno.remove(tmp).catch(() => {});
      }
    },
  };
}

/** The serial log of a domain, from its definition. */
async function logSource(rt: Runtime, dom: Domain): Promise<LogSource> {
  const lv = rt.libvirtFor(dom);
  const name = dom.metadata.name;
  const xml = await lv.domGet(name);
  if (xml === undefined) throw new CommandFailed(`domain/${name} is not defined in libvirt yet`);
  const file = parseDomainXml(xml).serialLog;
  if (file === undefined) {
    throw new CommandFailed(
      isLocal(lv.uri)
        ? `domain/${name} has no serial log (defined before lv logged consoles: lv reload ${name})`
        : `domain/${name} has no serial log: on ${lv.uri} lv keeps it in a directory pool, and pool ${dom.spec.storagePoolName} is not one or was not there (lv reload ${name} once it is; lv console ${name} shows the live console)`,
    );
  }
  return isLocal(lv.uri)
    ? localSource(file)
    : volumeSource(lv, dom.spec.storagePoolName, serialLogVolume(name));
}

/** Prints the domain's serial log, and with `follow` what is appended, until `signal` aborts. */
export async function domainLogs(rt: Runtime, name: string, options: LogsOptions): Promise<void> {
  const dom = await rt.store.get({ kind: "Domain", namespace: options.namespace, name }) as
    | Domain
    | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const source = await logSource(rt, dom);
  let offset = 0;
  const decoder = new TextDecoder();
  /** Prints what was appended since the last look; the log's size (undefined while it does not exist). */
  const readMore = async (): Promise<number | undefined> => {
    const size = await source.size();
    if (size === undefined) return undefined;
    if (size < offset) offset = 0; // truncated or replaced
    if (size === offset) return size;
    const bytes = await source.read(offset, size - offset);
    offset += bytes.length;
    rt.output.out(decoder.decode(bytes, { stream: true }));
    return size;
  };
  const size = await readMore();
  if (!options.follow) {
    if (!size) {
      const what = size === undefined ? `no ${source.where}` : `${source.where} is empty`;
      rt.output.err(`domain/${name} has printed nothing yet (${what})\n`);
    }
    return;
  }
  // A remote log is two virsh calls a look, over the connection.
  const pollMs = options.pollMs ?? (isLocal(rt.libvirtFor(dom).uri) ? 250 : 1000);
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
