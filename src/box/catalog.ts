/**
 * Vagrant box catalogs: `USER/NAME` resolved the way `vagrant box add` resolves it. The box's metadata
 * JSON comes from `GET {server}/{USER}/{NAME}` with `Accept: application/json` (server: $LV_BOX_SERVER_URL,
 * else the config file's `boxServerUrl`, else Vagrant's public catalog), or from a URL of a metadata file
 * (a self-hosted catalog). The newest version matching the constraint that has a libvirt provider for this
 * host's architecture is chosen.
 */
import { BoxFetchError } from "./box_fault.ts";
import { httpGet } from "./http_get.ts";
import { newestFirst, parseVersionConstraint, versionSatisfies } from "../api/vagrant_version.ts";
import { isCatalogName } from "../api/box_catalog_names.ts";

export { isCatalogName, isMetadataUrl } from "../api/box_catalog_names.ts";

/** Vagrant's public catalog (Vagrant's DEFAULT_SERVER_URL). */
export const DEFAULT_BOX_SERVER_URL = "https://vagrantcloud.com/api/v2/vagrant";

/** A provider of one version in the metadata JSON. */
export interface CatalogProvider {
  name: string;
  url: string;
  checksum_type?: string;
  checksum?: string;
  /** Vagrant 2.4+: amd64, arm64, i386, ... Absent in older metadata: any architecture. */
  architecture?: string;
  default_architecture?: boolean;
}

export interface CatalogVersion {
  version: string;
  providers: CatalogProvider[];
}

/** A box's metadata JSON, as far as lv reads it. */
export interface BoxMetadata {
  name?: string;
  versions: CatalogVersion[];
}

/** What a catalog resolved to: one version's libvirt box. */
export interface ResolvedVersion {
  version: string;
  /** The .box URL. */
  url: string;
  /** `sha256:<hex>`, `sha512:<hex>`, ... (checksum_type and checksum), when the catalog gives one. */
  checksum?: string;
  architecture?: string;
  /** The metadata URL it came from. */
  catalog: string;
}

/** The server: $LV_BOX_SERVER_URL, else the config file's boxServerUrl, else Vagrant's public catalog. */
export function boxServerUrl(
  configured: string | undefined,
  env: (name: string) => string | undefined = Deno.env.get,
): string {
  return (env("LV_BOX_SERVER_URL") || configured || DEFAULT_BOX_SERVER_URL).replace(/\/+$/, "");
}

/** The metadata URL of a source: `{server}/{USER}/{NAME}` for a name, the URL itself for a metadata URL. */
export function metadataUrl(source: string, server: string): string {
  return isCatalogName(source) ? `${server}/${source}` : source;
}

/** Vagrant's architecture names for this host (Deno.build.arch is x86_64 or aarch64). */
export function hostArchitecture(): string {
  return { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch] ?? Deno.build.arch;
}

/** GETs and checks a metadata JSON document. Throws BoxFetchError (CatalogNotJson, NotFound, ...). */
export async function fetchMetadata(url: string, options: { timeoutMs?: number } = {}): Promise<BoxMetadata> {
  const { response } = await httpGet(url, {
    headers: { accept: "application/json" },
    timeoutMs: options.timeoutMs,
  });
  const text = await response.text();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const head = text.slice(0, 60).replace(/\s+/g, " ");
    throw new BoxFetchError("CatalogNotJson", url, `${url}: the catalog's answer is not JSON ("${head}...")`);
  }
  return checkMetadata(doc, url);
}

/** The metadata's shape, checked: versions[] with a version string and providers[] of name and url. */
export function checkMetadata(doc: unknown, url: string): BoxMetadata {
  const bad = (what: string) =>
    new BoxFetchError("CatalogNotJson", url, `${url}: not Vagrant box metadata: ${what}`);
  const versions = (doc as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(versions)) throw bad(`no "versions" list`);
  const out: CatalogVersion[] = [];
  for (const [i, v] of versions.entries()) {
    const version = (v as { version?: unknown } | null)?.version;
    const providers = (v as { providers?: unknown } | null)?.providers ?? [];
    if (typeof version !== "string" || !Array.isArray(providers)) {
      throw bad(`versions[${i}] needs a "version" string and a "providers" list`);
    }
    out.push({
      version,
      providers: providers.filter((p): p is CatalogProvider =>
        typeof p?.name === "string" && typeof p?.url === "string"
      ),
    });
  }
  return { name: (doc as { name?: string }).name, versions: out };
}

/**
 * The newest version matching `constraint` (any, when undefined) with a libvirt provider for `arch`.
 * Throws BoxFetchError NoLibvirtProvider (no version has one) or NoMatchingVersion.
 */
export function chooseVersion(
  metadata: BoxMetadata,
  url: string,
  options: { constraint?: string; arch?: string },
): ResolvedVersion {
  const arch = options.arch ?? hostArchitecture();
  let range: string | undefined;
  if (options.constraint) {
    const parsed = parseVersionConstraint(options.constraint);
    if (!parsed.ok) throw new BoxFetchError("NoMatchingVersion", url, `spec.version: ${parsed.message}`);
    range = parsed.range;
  }
  const usable = metadata.versions
    .map((v) => ({ version: v.version, provider: libvirtProvider(v, arch) }))
    .filter((v) => v.provider !== undefined)
    .sort((a, b) => newestFirst(a.version, b.version));
  if (usable.length === 0) {
    const seen = [...new Set(metadata.versions.flatMap((v) => v.providers.map(describeProvider)))];
    throw new BoxFetchError(
      "NoLibvirtProvider",
      url,
      `${url}: no version has a libvirt provider for ${arch} (providers: ${seen.join(", ") || "none"})`,
    );
  }
  const match = usable.find((v) => range === undefined || versionSatisfies(v.version, range));
  if (!match) {
    throw new BoxFetchError(
      "NoMatchingVersion",
      url,
      `${url}: no version matching "${options.constraint}" has a libvirt provider for ${arch} (available: ${
        usable.map((v) => v.version).join(", ")
      })`,
    );
  }
  const p = match.provider!;
  return {
    version: match.version,
    url: p.url,
    checksum: p.checksum && p.checksum_type ? `${p.checksum_type.toLowerCase()}:${p.checksum}` : undefined,
    architecture: p.architecture,
    catalog: url,
  };
}

/** The libvirt provider of a version for `arch`: an exact architecture first, then one that names none. */
function libvirtProvider(v: CatalogVersion, arch: string): CatalogProvider | undefined {
  const libvirt = v.providers.filter((p) => p.name === "libvirt");
  return libvirt.find((p) => p.architecture === arch) ??
    libvirt.find((p) => p.architecture === undefined || p.architecture === "unknown");
}

function describeProvider(p: CatalogProvider): string {
  return p.architecture ? `${p.name}/${p.architecture}` : p.name;
}

/** Resolves a catalog name or metadata URL with a constraint: one GET, then {@linkcode chooseVersion}. */
export async function resolveCatalog(
  source: string,
  options: { server: string; constraint?: string; arch?: string; timeoutMs?: number },
): Promise<ResolvedVersion> {
  const url = metadataUrl(source, options.server);
  const metadata = await fetchMetadata(url, { timeoutMs: options.timeoutMs });
  return chooseVersion(metadata, url, options);
}
