/**
 * boxReconciler with a catalog source (USER/NAME): the version is resolved once and kept in status.version,
 * an unreachable catalog does not block a Box whose version is known, and every fault becomes the Box's
 * condition with the URL and creates no volume. Against a catalog and box server on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Box } from "../../src/api/types.ts";
import { RetryableError, TerminalError } from "../../src/controller/context.ts";
import {
  converge,
  createAll,
  example,
  type Harness,
  mustGet,
  newHarness,
  pass,
  ready,
  TINY_IMG,
} from "./harness.ts";
import { TINY_BYTES, TINY_SHA256 } from "./box_files.ts";

const [IMAGE, DIGEST] = [TINY_BYTES, TINY_SHA256];

type Route = (req: Request) => Response | Promise<Response>;

interface Lab {
  h: Harness;
  /** $VAGRANT_HOME for the test: empty unless the test puts boxes there. */
  vagrantHome: string;
  base: string;
  /** Paths requested, in order. */
  seen: string[];
  routes: Record<string, Route>;
}

function metadata(base: string, versions: string[], checksum = DIGEST) {
  return {
    name: "lv-test/tiny",
    versions: versions.map((version) => ({
      version,
      providers: [
        { name: "libvirt", url: `${base}/boxes/${version}.img`, checksum_type: "sha256", checksum },
        { name: "libvirt", url: `${base}/boxes/${version}-arm.img`, architecture: "arm64" },
      ],
    })),
  };
}

const serveImage: Route = () => new Response(IMAGE, { headers: { "content-length": String(IMAGE.length) } });

/** A harness whose catalog server is a loopback server with these routes; a Box "tiny" with that source. */
async function withCatalogBox(
  edit: (b: Box) => void,
  routes: (base: string) => Record<string, Route>,
  fn: (lab: Lab) => Promise<void>,
): Promise<void> {
  const seen: string[] = [];
  const lab = { seen, routes: {} } as unknown as Lab;
  // A body cut on purpose is an error to the server: answered quietly.
  const onError = () => new Response(null, { status: 500 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {}, onError }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    const route = lab.routes[path];
    return route ? route(req) : new Response("not found", { status: 404 });
  });
  lab.base = `http://127.0.0.1:${server.addr.port}`;
  lab.routes = routes(lab.base);
  lab.h = await newHarness({ defaultPool: true });
  lab.h.ctx.boxServerUrl = lab.base;
  lab.vagrantHome = await Deno.makeTempDir({ prefix: "lv-vagrant-home-" });
  const before = Deno.env.get("VAGRANT_HOME");
  Deno.env.set("VAGRANT_HOME", lab.vagrantHome);
  try {
    await createAll(lab.h, [example<Box>("Box", "tiny", edit)]);
    await fn(lab);
  } finally {
    if (before === undefined) Deno.env.delete("VAGRANT_HOME");
    else Deno.env.set("VAGRANT_HOME", before);
    await Deno.remove(lab.vagrantHome, { recursive: true });
    await lab.h.close();
    await server.shutdown();
  }
}

const catalogName = (version?: string) => (b: Box) => {
  b.spec.source = "lv-test/tiny";
  if (version) b.spec.version = version;
};

Deno.test("boxReconciler resolves USER/NAME to the newest matching version and keeps it in status.version", async () => {
  await withCatalogBox(catalogName("~> 1.0"), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["0.9.0", "1.0.0", "1.2.0", "2.0.0"])),
    "/boxes/1.2.0.img": serveImage,
  }), async ({ h, base, seen }) => {
    await converge(h, [["Box", "tiny"]]);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    assert.deepEqual(box.status.version, {
      version: "1.2.0",
      url: `${base}/boxes/1.2.0.img`,
      checksum: `sha256:${DIGEST}`,
      from: `${base}/lv-test/tiny`,
      source: "lv-test/tiny",
      constraint: "~> 1.0",
    });
    assert.equal(box.status.sha256, DIGEST);
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.2.0.img"]);
    assert.equal(h.fake.volume("default", "box-tiny")!.uploads.length, 1);
  });
});

Deno.test("boxReconciler: with a version resolved, an unreachable catalog blocks nothing", async () => {
  let boxFails = true;
  await withCatalogBox(catalogName(), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"])),
    "/boxes/1.0.0.img": (req) => boxFails ? new Response("busy", { status: 503 }) : serveImage(req),
  }), async ({ h, seen, routes }) => {
    const first = await pass(h, "Box", "tiny");
    assert.ok(first.error instanceof RetryableError, String(first.error));
    assert.equal(first.error.reason, "Unreachable");
    assert.equal((await mustGet<Box>(h, "Box", "tiny")).status.version?.version, "1.0.0");
    assert.deepEqual(h.fake.mutations(), [], "nothing uploaded");
    // The catalog goes away; the box server comes back.
    routes["/lv-test/tiny"] = () => new Response("down", { status: 503 });
    boxFails = false;
    await converge(h, [["Box", "tiny"]]);
    assert.equal(ready(await mustGet<Box>(h, "Box", "tiny"))?.status, "True");
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.0.0.img", "/boxes/1.0.0.img"]);
  });
});

Deno.test("boxReconciler: a catalog or download fault is the Box's condition, with the URL; no volume", async (t) => {
  const cases: [string, (base: string) => Record<string, Route>, string | undefined, string, string][] = [
    ["a 404 for the box name", () => ({}), undefined, "NotFound", "/lv-test/tiny"],
    [
      "an answer that is not JSON",
      () => ({ "/lv-test/tiny": () => new Response("<html>sign in</html>") }),
      undefined,
      "CatalogNotJson",
      "/lv-test/tiny",
    ],
    [
      "no version matching",
      (base) => ({ "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"])) }),
      ">= 3",
      "NoMatchingVersion",
      "/lv-test/tiny",
    ],
    [
      "no libvirt provider",
      (base) => ({
        "/lv-test/tiny": () =>
          Response.json({
            versions: [{ version: "1.0.0", providers: [{ name: "virtualbox", url: `${base}/v.box` }] }],
          }),
      }),
      undefined,
      "NoLibvirtProvider",
      "/lv-test/tiny",
    ],
    [
      "a checksum mismatch",
      (base) => ({
        "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"], "0".repeat(64))),
        "/boxes/1.0.0.img": serveImage,
      }),
      undefined,
      "ChecksumMismatch",
      "/boxes/1.0.0.img",
    ],
    [
      "a 404 for the box file",
      (base) => ({ "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"])) }),
      undefined,
      "NotFound",
      "/boxes/1.0.0.img",
    ],
    [
      "a redirect loop for the box file",
      (base) => ({
        "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"])),
        "/boxes/1.0.0.img": () =>
          new Response(null, { status: 302, headers: { location: "/boxes/1.0.0.img" } }),
      }),
      undefined,
      "RedirectLoop",
      "/boxes/1.0.0.img",
    ],
  ];
  for (const [name, routes, version, reason, path] of cases) {
    await t.step(name, async () => {
      await withCatalogBox(catalogName(version), routes, async ({ h, base }) => {
        const r = await pass(h, "Box", "tiny");
        assert.ok(r.error instanceof TerminalError, String(r.error));
        assert.equal(r.error.reason, reason, r.error.message);
        assert.ok(r.error.message.includes(`${base}${path}`), r.error.message);
        assert.deepEqual(h.fake.mutations(), []);
      });
    });
  }
});

Deno.test("boxReconciler: a download cut in the middle is retried and resumes; nothing uploaded until whole", async () => {
  let cut = true;
  await withCatalogBox(catalogName(), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0"])),
    "/boxes/1.0.0.img": (req) => {
      const range = req.headers.get("range");
      if (cut) {
        cut = false;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(IMAGE.slice(0, 4096));
            c.error(new Error("connection reset"));
          },
        });
        return new Response(body, { headers: { "content-length": String(IMAGE.length), etag: '"t"' } });
      }
      const start = Number(range?.match(/^bytes=(\d+)-$/)?.[1] ?? 0);
      return new Response(IMAGE.slice(start), {
        status: start ? 206 : 200,
        headers: {
          etag: '"t"',
          "content-length": String(IMAGE.length - start),
          ...(start ? { "content-range": `bytes ${start}-${IMAGE.length - 1}/${IMAGE.length}` } : {}),
        },
      });
    },
  }), async ({ h }) => {
    const first = await pass(h, "Box", "tiny");
    assert.ok(first.error instanceof RetryableError, String(first.error));
    assert.equal(first.error.reason, "DownloadInterrupted");
    assert.deepEqual(h.fake.mutations(), []);
    await converge(h, [["Box", "tiny"]]);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(box.status.sha256, DIGEST);
  });
});

/** Puts an unpacked libvirt box of tiny.img where Vagrant keeps version `version` of `name`. */
async function vagrantBox(home: string, name: string, version: string, arch?: string): Promise<string> {
  const dir = join(
    home,
    "boxes",
    name.replace("/", "-VAGRANTSLASH-"),
    version,
    ...(arch ? [arch] : []),
    "libvirt",
  );
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(TINY_IMG, join(dir, "box.img"));
  await Deno.writeTextFile(
    join(dir, "metadata.json"),
    JSON.stringify({ provider: "libvirt", format: "raw" }),
  );
  return dir;
}

Deno.test("boxReconciler uses a matching box from $VAGRANT_HOME/boxes without any request", async () => {
  await withCatalogBox(catalogName("~> 1.0"), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0", "1.9.0"])),
  }), async ({ h, seen, vagrantHome }) => {
    await vagrantBox(vagrantHome, "lv-test/tiny", "1.1.0", "amd64");
    const newest = await vagrantBox(vagrantHome, "lv-test/tiny", "1.5.0"); // Vagrant before 2.4: no arch level
    await vagrantBox(vagrantHome, "lv-test/tiny", "1.8.0", "arm64"); // another architecture
    await vagrantBox(vagrantHome, "lv-test/tiny", "2.0.0", "amd64"); // outside the constraint
    await vagrantBox(vagrantHome, "lv-test/other", "1.7.0", "amd64"); // another box
    await converge(h, [["Box", "tiny"]]);
    const box = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(ready(box)?.status, "True");
    assert.equal(box.status.version?.version, "1.5.0");
    assert.equal(box.status.version?.from, "vagrant-home");
    assert.equal(box.status.version?.url, newest);
    assert.deepEqual(h.fake.volume("default", "box-tiny")!.uploads, [join(newest, "box.img")]);
    assert.deepEqual(seen, [], "no request to the catalog or for a box");
  });
});

Deno.test("boxReconciler goes to the catalog when no box in $VAGRANT_HOME matches the constraint", async () => {
  await withCatalogBox(catalogName(">= 1.9"), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0", "1.9.0"])),
    "/boxes/1.9.0.img": serveImage,
  }), async ({ h, seen, vagrantHome }) => {
    await vagrantBox(vagrantHome, "lv-test/tiny", "1.5.0", "amd64");
    await converge(h, [["Box", "tiny"]]);
    assert.equal((await mustGet<Box>(h, "Box", "tiny")).status.version?.version, "1.9.0");
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.9.0.img"]);
  });
});

Deno.test("boxReconciler reads any http(s) URL given with a version as a self-hosted catalog's metadata", async () => {
  let base = "";
  await withCatalogBox((b) => {
    b.spec.source = "PLACEHOLDER";
    b.spec.version = "< 2";
  }, (url) => {
    base = url;
    return {
      "/self-hosted/tiny": () => Response.json(metadata(url, ["1.0.0", "1.2.0", "2.0.0"])),
      "/boxes/1.2.0.img": serveImage,
    };
  }, async ({ h, seen }) => {
    const box = await mustGet<Box>(h, "Box", "tiny");
    box.spec.source = `${base}/self-hosted/tiny`;
    await h.store.update(box);
    await converge(h, [["Box", "tiny"]]);
    const done = await mustGet<Box>(h, "Box", "tiny");
    assert.equal(done.status.version?.version, "1.2.0");
    assert.equal(done.status.version?.from, `${base}/self-hosted/tiny`);
    assert.deepEqual(seen, ["/self-hosted/tiny", "/boxes/1.2.0.img"]);
  });
});

Deno.test("boxReconciler pins again when spec.version changes: the same version records it, another moves the base", async () => {
  await withCatalogBox(catalogName("~> 1.0"), (base) => ({
    "/lv-test/tiny": () => Response.json(metadata(base, ["1.0.0", "1.2.0", "2.0.0"])),
    "/boxes/1.2.0.img": serveImage,
    "/boxes/2.0.0.img": serveImage,
  }), async ({ h, seen }) => {
    await converge(h, [["Box", "tiny"]]);
    const edit = async (version: string) => {
      const box = await mustGet<Box>(h, "Box", "tiny");
      box.spec.version = version;
      await h.store.update(box);
      await converge(h, [["Box", "tiny"]]);
      return await mustGet<Box>(h, "Box", "tiny");
    };
    const mark = h.fake.mark();
    const same = await edit("~> 1.2");
    assert.deepEqual([same.status.version?.version, same.status.version?.constraint], ["1.2.0", "~> 1.2"]);
    assert.equal(same.status.volume, "box-tiny");
    assert.deepEqual(h.fake.mutations(mark), [], "the same version is not uploaded again");
    const moved = await edit(">= 2");
    assert.equal(moved.status.version?.version, "2.0.0");
    assert.equal(moved.status.volume, "box-tiny-v2.0.0");
    assert.ok(h.fake.volume("default", "box-tiny"), "the old base volume stays (lv box prune removes it)");
    // Both versions are tiny.img with one checksum: the second is in the cache by digest, no download.
    assert.deepEqual(seen, ["/lv-test/tiny", "/boxes/1.2.0.img", "/lv-test/tiny", "/lv-test/tiny"]);
  });
});
