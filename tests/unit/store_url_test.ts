import assert from "node:assert/strict";
import { parseStoreUrl } from "../../src/config/store_url.ts";
import { selectStoreUrl, StoreUrlError } from "../../src/cli/open_store.ts";
import { loadConfig } from "../../src/config/config_file.ts";
import { ConfigError } from "../../src/config/config.ts";

Deno.test("parseStoreUrl() reads etcd members, TLS files, user and prefix", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ["etcd://h1", { endpoints: ["http://h1:2379"], prefix: "/lv/" }],
    ["etcd://10.0.0.1:2379,10.0.0.2:2380", { endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2380"] }],
    ["etcd://[::1]:23790/team-a", { endpoints: ["http://[::1]:23790"], prefix: "/team-a/" }],
    [
      "etcds://ops@h1:2379?cacert=/ca.pem&cert=/c.pem&key=/k.pem",
      { endpoints: ["https://h1:2379"], caCert: "/ca.pem", cert: "/c.pem", key: "/k.pem", username: "ops" },
    ],
    ["etcds://h1?user=lv", { username: "lv" }],
    ["sqlite:/var/lib/lv/store.db", { kind: "sqlite", path: "/var/lib/lv/store.db" }],
  ];
  for (const [text, want] of cases) {
    await t.step(text, () => {
      const url = parseStoreUrl(text) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(url[k], v, k);
    });
  }
});

Deno.test("parseStoreUrl() says what is wrong", async (t) => {
  const cases: [string, RegExp][] = [
    ["http://h1:2379", /must be etcd:\/\/HOST:PORT/],
    ["etcd://", /names no etcd member/],
    ["etcd://h1:99999", /"h1:99999" is not HOST or HOST:PORT/],
    ["etcd://h1 h2", /is not HOST or HOST:PORT/],
    ["etcds://ops:s3cret@h1", /a password does not belong in the store URL/],
    ["etcd://h1?cacert=/ca.pem", /need etcds:\/\//],
    ["etcds://h1?cert=/c.pem", /cert and key go together/],
    ["etcds://h1?ca=/x", /unknown option "ca"/],
    ["sqlite:", /needs a file path/],
  ];
  for (const [text, want] of cases) {
    await t.step(text, () => {
      assert.throws(() => parseStoreUrl(text), (e: Error) => {
        assert.match(e.message, want);
        assert.doesNotMatch(e.message, /s3cret/, "the password is not repeated");
        return true;
      });
    });
  }
});

Deno.test("selectStoreUrl(): --store, then LV_STORE, then the config file, then the SQLite file in home", () => {
  const all = { flag: "etcd://f", env: "etcd://e", config: "etcd://c" };
  assert.equal(selectStoreUrl(all, "/h").text, "etcd://f");
  assert.equal(selectStoreUrl({ ...all, flag: undefined }, "/h").text, "etcd://e");
  assert.equal(selectStoreUrl({ config: "etcd://c" }, "/h").from, "the config file's store");
  const fallback = selectStoreUrl({}, "/h");
  assert.deepEqual([fallback.kind, fallback.text], ["sqlite", "/h/store.db"]);
  const system = selectStoreUrl(all, { home: "/h", explicitHome: false, uri: "qemu:///system" });
  assert.equal(system.text, "etcd://f", "--store wins over the system store");
  assert.throws(() => selectStoreUrl({ env: "etcd://" }, "/h"), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    assert.equal(e.message, 'LV_STORE: names no etcd member (etcd://HOST:PORT); got "etcd://"');
    return true;
  });
});

Deno.test("loadConfig() reads store and storePassword, and names file:line:col of a bad store URL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, "store: etcd://h1:2379,h2:2379\nstorePassword: pw\ncontexts: []\n");
    const config = loadConfig(path);
    assert.equal(config.store, "etcd://h1:2379,h2:2379");
    assert.equal(config.storePassword, "pw");
    await Deno.writeTextFile(path, "contexts: []\nstore: etcd://h1:0\n");
    assert.throws(() => loadConfig(path), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, `${path}:2:8: store: "h1:0" is not HOST or HOST:PORT; got "etcd://h1:0"`);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lv config set-context, use-context and delete-context keep store and storePassword; view redacts the password", async () => {
  const home = Deno.makeTempDirSync();
  const prev = Deno.env.get("LV_HOME");
  Deno.env.set("LV_HOME", home);
  // delete-context looks for objects in the store: a local one, not the config file's unreachable etcd.
  Deno.env.set("LV_STORE", `sqlite:${home}/store.db`);
  const { main } = await import("../../src/cli/main.ts");
  const run = async (...args: string[]) => {
    let out = "";
    const code = await main(args, { out: (t) => out += t, err: () => {} });
    return { code, out };
  };
  try {
    Deno.writeTextFileSync(
      `${home}/config.yaml`,
      "store: etcd://h1:2379\nstorePassword: pw-123\ncontexts: []\n",
    );
    assert.equal((await run("config", "set-context", "a", "--uri", "qemu:///system")).code, 0);
    assert.equal((await run("config", "use-context", "a")).code, 0);
    assert.equal((await run("config", "set-context", "b", "--uri", "qemu:///system")).code, 0);
    assert.equal((await run("config", "delete-context", "b")).code, 0);
    const config = loadConfig(`${home}/config.yaml`);
    assert.equal(config.store, "etcd://h1:2379");
    assert.equal(config.storePassword, "pw-123");
    const view = (await run("config", "view")).out;
    assert.match(view, /store: etcd:\/\/h1:2379\nstorePassword: REDACTED/);
    assert.doesNotMatch(view, /pw-123/);
  } finally {
    if (prev === undefined) Deno.env.delete("LV_HOME");
    else Deno.env.set("LV_HOME", prev);
    Deno.env.delete("LV_STORE");
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("selectStoreUrl(): qemu:///system shares the system store; session, remote and $LV_HOME keep their own", async (t) => {
  const cases: [string, boolean, string, string | undefined][] = [
    ["qemu:///system", false, "/var/lib/lv/store.db", "libvirt"],
    ["qemu+unix:///system?socket=/run/libvirt/libvirt-sock", false, "/var/lib/lv/store.db", "libvirt"],
    ["qemu:///system", true, "/h/store.db", undefined],
    ["qemu:///session", false, "/h/store.db", undefined],
    ["qemu+ssh://root@hv1/system", false, "/h/store.db", undefined],
    ["qemu://hv1/system", false, "/h/store.db", undefined],
  ];
  for (const [uri, explicitHome, path, group] of cases) {
    await t.step(`${uri}${explicitHome ? " with LV_HOME" : ""} -> ${path}`, () => {
      const url = selectStoreUrl({}, { home: "/h", explicitHome, uri });
      assert.equal(url.kind, "sqlite");
      assert.deepEqual([url.text, url.kind === "sqlite" ? url.group : "?"], [path, group]);
      if (group) assert.match(url.from, /system store of .*shared by group libvirt/);
    });
  }
  await t.step("sqlite:/var/lib/lv/store.db named explicitly is still the group's file", () => {
    const url = selectStoreUrl({ flag: "sqlite:/var/lib/lv/store.db" }, "/h");
    assert.deepEqual([url.kind, url.kind === "sqlite" && url.group], ["sqlite", "libvirt"]);
  });
});
