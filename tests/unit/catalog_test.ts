/**
 * Vagrant catalogs and version constraints: parseVersionConstraint() with RubyGems' `~>`, chooseVersion()
 * over metadata with several versions, providers and architectures, and every catalog fault against a
 * server on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { BoxFetchError } from "../../src/box/box_fault.ts";
import {
  type BoxMetadata,
  boxServerUrl,
  chooseVersion,
  DEFAULT_BOX_SERVER_URL,
  fetchMetadata,
  isCatalogName,
  isMetadataUrl,
  resolveCatalog,
} from "../../src/box/catalog.ts";
import { parseVersionConstraint, versionSatisfies } from "../../src/api/vagrant_version.ts";

Deno.test("parseVersionConstraint() reads Vagrant's constraints, with RubyGems' ~>", async (t) => {
  const cases: [string, string[], string[]][] = [
    ["4.3.12", ["4.3.12"], ["4.3.11", "4.3.13"]],
    ["= 4.3", ["4.3", "4.3.0"], ["4.3.1"]],
    [">= 4.0, < 5.0", ["4.0", "4.9.9"], ["3.9", "5.0.0"]],
    ["~> 4.3", ["4.3.0", "4.3.12", "4.9"], ["4.2.9", "5.0.0"]],
    ["~> 4.3.1", ["4.3.1", "4.3.9"], ["4.3.0", "4.4.0"]],
    ["~> 4", ["4.0", "4.99"], ["3.9", "5"]],
    ["!= 4.3.1", ["4.3.0", "4.3.2"], ["4.3.1"]],
    [">4.1,<=4.2", ["4.1.1", "4.2.0"], ["4.1.0", "4.2.1"]],
  ];
  for (const [text, yes, no] of cases) {
    await t.step(text, () => {
      const parsed = parseVersionConstraint(text);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      for (const v of yes) assert.ok(versionSatisfies(v, parsed.range), `${v} satisfies ${text}`);
      for (const v of no) assert.ok(!versionSatisfies(v, parsed.range), `${v} does not satisfy ${text}`);
    });
  }
  for (const bad of ["", "latest", ">= 4.x", "4.3,", "~>", "1.2.3.4", ">> 1"]) {
    await t.step(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseVersionConstraint(bad).ok, false));
  }
});

Deno.test("isCatalogName() and isMetadataUrl() tell catalog sources from files and boxes", () => {
  assert.ok(isCatalogName("generic/debian12"));
  assert.ok(isCatalogName("lv-test/debian"));
  assert.ok(!isCatalogName("/boxes/debian.box"));
  assert.ok(!isCatalogName("debian.box"));
  assert.ok(!isCatalogName("a/b/c"));
  assert.ok(!isCatalogName("https://example.test/a"));
  assert.ok(isMetadataUrl("https://boxes.example.test/lv/debian.json"));
  assert.ok(!isMetadataUrl("https://boxes.example.test/lv/debian.box"));
});

Deno.test("boxServerUrl(): $LV_BOX_SERVER_URL, else the config file's, else Vagrant's catalog", () => {
  const env = (v?: string) => (name: string) => name === "LV_BOX_SERVER_URL" ? v : undefined;
  assert.equal(boxServerUrl(undefined, env()), DEFAULT_BOX_SERVER_URL);
  assert.equal(boxServerUrl("http://c.test/", env()), "http://c.test");
  assert.equal(boxServerUrl("http://c.test", env("http://e.test")), "http://e.test");
});

const METADATA: BoxMetadata = {
  name: "lv-test/debian",
  versions: [
    { version: "4.2.0", providers: [{ name: "libvirt", url: "http://b.test/4.2.0.box" }] },
    {
      version: "4.3.1",
      providers: [
        { name: "virtualbox", url: "http://b.test/4.3.1-vbox.box" },
        {
          name: "libvirt",
          url: "http://b.test/4.3.1.box",
          checksum_type: "SHA256",
          checksum: "ab".repeat(32),
        },
      ],
    },
    // Newest, but only for another architecture (and another provider).
    {
      version: "4.4.0",
      providers: [
        { name: "libvirt", url: "http://b.test/4.4.0-arm.box", architecture: "arm64" },
        { name: "vmware_desktop", url: "http://b.test/4.4.0-vmware.box", architecture: "amd64" },
      ],
    },
    {
      version: "5.0.0",
      providers: [
        { name: "libvirt", url: "http://b.test/5.0.0-arm.box", architecture: "arm64" },
        { name: "libvirt", url: "http://b.test/5.0.0.box", architecture: "amd64" },
      ],
    },
  ],
};

Deno.test("chooseVersion(): newest matching version with a libvirt provider for the architecture", async (t) => {
  const choose = (constraint?: string) =>
    chooseVersion(METADATA, "http://c.test/lv-test/debian", { constraint, arch: "amd64" });
  await t.step("no constraint: the newest", () => {
    const v = choose();
    assert.equal(v.version, "5.0.0");
    assert.equal(v.url, "http://b.test/5.0.0.box", "the amd64 provider, not the arm64 one");
  });
  await t.step("~> 4.3 skips 4.4.0, which has no amd64 libvirt provider", () => {
    const v = choose("~> 4.3");
    assert.equal(v.version, "4.3.1");
    assert.equal(v.checksum, `sha256:${"ab".repeat(32)}`);
  });
  await t.step("an exact pin", () => assert.equal(choose("4.2.0").url, "http://b.test/4.2.0.box"));
  await t.step("arm64 gets the arm64 provider", () => {
    const v = chooseVersion(METADATA, "u", { constraint: "~> 4.4", arch: "arm64" });
    assert.equal(v.url, "http://b.test/4.4.0-arm.box");
  });
  await t.step("no match: NoMatchingVersion, listing what there is", () => {
    assert.throws(
      () => choose(">= 6"),
      (e: Error) =>
        e instanceof BoxFetchError && e.reason === "NoMatchingVersion" &&
        e.message.includes('no version matching ">= 6"') && e.message.includes("5.0.0, 4.3.1, 4.2.0"),
    );
  });
  await t.step("no libvirt provider at all: NoLibvirtProvider", () => {
    const vbox: BoxMetadata = {
      versions: [{ version: "1.0.0", providers: [{ name: "virtualbox", url: "http://b.test/v.box" }] }],
    };
    assert.throws(
      () => chooseVersion(vbox, "http://c.test/x/y", { arch: "amd64" }),
      (e: Error) =>
        e instanceof BoxFetchError && e.reason === "NoLibvirtProvider" && e.url === "http://c.test/x/y" &&
        e.message.includes("providers: virtualbox"),
    );
  });
});

interface Served {
  path: string;
  accept: string | null;
}

/** A catalog server on loopback answering by path; records every request. */
async function withCatalog(
  routes: Record<string, (req: Request) => Response | Promise<Response>>,
  fn: (base: string, seen: Served[]) => Promise<void>,
): Promise<void> {
  const seen: Served[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push({ path, accept: req.headers.get("accept") });
    const route = routes[path];
    return route ? route(req) : new Response("not found", { status: 404 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

function rejectsWith(reason: string, url: string | RegExp) {
  return (e: Error) => {
    assert.ok(e instanceof BoxFetchError, String(e));
    assert.equal(e.reason, reason, e.message);
    if (typeof url === "string") assert.ok(e.message.includes(url), e.message);
    else assert.match(e.message, url);
    return true;
  };
}

Deno.test("resolveCatalog() GETs {server}/{USER}/{NAME} as JSON and picks the version", async () => {
  await withCatalog({ "/lv-test/debian": () => Response.json(METADATA) }, async (base, seen) => {
    const v = await resolveCatalog("lv-test/debian", { server: base, constraint: "~> 4.3", arch: "amd64" });
    assert.equal(v.version, "4.3.1");
    assert.equal(v.catalog, `${base}/lv-test/debian`);
    assert.deepEqual(seen, [{ path: "/lv-test/debian", accept: "application/json" }]);
  });
});

Deno.test("resolveCatalog() reads a metadata JSON URL the same way", async () => {
  await withCatalog({ "/self/debian.json": () => Response.json(METADATA) }, async (base) => {
    const v = await resolveCatalog(`${base}/self/debian.json`, {
      server: "http://unused.test",
      arch: "amd64",
    });
    assert.equal(v.version, "5.0.0");
  });
});

Deno.test("fetchMetadata() faults: each names its reason and the URL", async (t) => {
  let release!: () => void;
  const hang = new Promise<Response>((r) => release = () => r(new Response("late")));
  await withCatalog({
    "/html/box": () => new Response("<html>Welcome</html>", { headers: { "content-type": "text/html" } }),
    "/shape/box": () => Response.json({ boxes: [] }),
    "/loop/a": () => new Response(null, { status: 302, headers: { location: "/loop/b" } }),
    "/loop/b": () => new Response(null, { status: 302, headers: { location: "/loop/a" } }),
    "/moved/box": () => new Response(null, { status: 301, headers: { location: "/lv-test/debian" } }),
    "/lv-test/debian": () => Response.json(METADATA),
    "/hang/box": () => hang,
    "/broken/box": () => new Response("oops", { status: 500 }),
  }, async (base) => {
    await t.step("not JSON: CatalogNotJson", async () => {
      await assert.rejects(
        fetchMetadata(`${base}/html/box`),
        rejectsWith("CatalogNotJson", `${base}/html/box`),
      );
    });
    await t.step("JSON that is not box metadata: CatalogNotJson", async () => {
      await assert.rejects(
        fetchMetadata(`${base}/shape/box`),
        rejectsWith("CatalogNotJson", /no "versions"/),
      );
    });
    await t.step("404: NotFound", async () => {
      await assert.rejects(fetchMetadata(`${base}/nobody/nothing`), rejectsWith("NotFound", /HTTP 404/));
    });
    await t.step("a redirect loop: RedirectLoop with the URLs", async () => {
      await assert.rejects(
        fetchMetadata(`${base}/loop/a`),
        rejectsWith("RedirectLoop", `${base}/loop/a -> ${base}/loop/b -> ${base}/loop/a`),
      );
    });
    await t.step("a redirect is followed", async () => {
      assert.equal((await fetchMetadata(`${base}/moved/box`)).versions.length, 4);
    });
    await t.step("a server that hangs: Timeout", async () => {
      await assert.rejects(
        fetchMetadata(`${base}/hang/box`, { timeoutMs: 200 }),
        rejectsWith("Timeout", `${base}/hang/box`),
      );
      release(); // lets the server shut down
    });
    await t.step("a 500: Unreachable, not terminal", async () => {
      await assert.rejects(fetchMetadata(`${base}/broken/box`), (e: Error) => {
        rejectsWith("Unreachable", /HTTP 500/)(e);
        return !(e as BoxFetchError).terminal;
      });
    });
  });
  await t.step("nothing listening: Unreachable", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    await assert.rejects(
      fetchMetadata(`http://127.0.0.1:${port}/x/y`),
      rejectsWith("Unreachable", /Cannot reach/),
    );
  });
});
