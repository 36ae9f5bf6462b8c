/** The lv config file: parsing with file:line:field errors, the connection precedence, URIs, the ssh wrapper. */
import assert from "node:assert/strict";
import {
  ConfigError,
  configPath,
  contextDefaults,
  contextUri,
  type LvConfig,
  selectConnection,
} from "../../src/config/config.ts";
import { parseConfig, saveConfig } from "../../src/config/config_file.ts";
import { explainSshFailure, prepareTransport } from "../../src/config/ssh_transport.ts";
import { main } from "../../src/cli/main.ts";
import type { Output } from "../../src/cli/runtime.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { validateReferences } from "../../src/api/validate_references.ts";

const CONFIG = `currentContext: lab
contexts:
  - name: lab
    host: hv1.example
    port: 2222
    connectViaSsh: true
    username: root
    idSshKeyFile: /keys/id
    storagePoolName: fast
    defaultNetwork: mgmt
  - name: local
    uri: qemu:///system
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, "c.yaml");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message.split("\n");
  }
  return [];
}

Deno.test("parseConfig reads contexts with vagrant-libvirt's options", () => {
  const config = parseConfig(CONFIG, "c.yaml");
  assert.equal(config.currentContext, "lab");
  assert.equal(config.contexts.length, 2);
  assert.equal(contextUri(config.contexts[0]), "qemu+ssh://root@hv1.example:2222/system");
  assert.equal(contextUri(config.contexts[1]), "qemu:///system");
  assert.equal(contextUri({ name: "tls", host: "h" }), "qemu://h/system");
  assert.equal(contextUri({ name: "none" }), "qemu:///system");
});

Deno.test("parseConfig reports every problem with file, line, column and field", () => {
  assert.deepEqual(problems("contexts: [\n"), [problems("contexts: [\n")[0]]);
  assert.match(problems("contexts: [\n")[0], /^c\.yaml:\d+:\d+: /);
  assert.deepEqual(
    problems(`contexts:
  - name: a
    prot: 22
    port: seventy
    connectViaSsh: "yes"
    driver: xen
  - name: a
  - host: nameless
currentContext: b
colour: blue
`),
    [
      'c.yaml:3:5: contexts[0].prot: unknown field (did you mean "port"?)',
      'c.yaml:4:11: contexts[0].port: must be a port number 1..65535; got "seventy"',
      'c.yaml:5:20: contexts[0].connectViaSsh: must be true or false; got "yes"',
      'c.yaml:6:13: contexts[0].driver: must be kvm or qemu; got "xen"',
      "c.yaml:8:5: contexts[2].name: is required",
      "c.yaml:10:1: colour: unknown field",
      'c.yaml:9:17: currentContext: no context named "b"',
    ],
  );
  assert.match(
    problems("contexts:\n  - name: x\n    uri: qemu:///system\n    host: h\n")[0],
    /contexts\[0\]\.host: cannot be given with uri/,
  );
  assert.match(problems("- a\n- b\n")[0], /must be a mapping/);
  assert.match(
    problems("contexts:\n  - name: x\n    uri: not a uri\n")[0],
    /contexts\[0\]\.uri: is not a URI/,
  );
  assert.match(problems("contexts:\n  - name: x\n  - name: x\n")[0], /"x" is defined twice/);
  assert.deepEqual(parseConfig("", "c.yaml"), { contexts: [] });
});

Deno.test("selectConnection: flag over environment over file over the default", () => {
  const config = parseConfig(CONFIG, "c.yaml");
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(selectConnection(config, {}, env({})).context, "lab");
  assert.equal(selectConnection({ contexts: [] }, {}, env({})).uri, "qemu:///system");
  assert.deepEqual(selectConnection(config, {}, env({ LV_CONNECT: "test:///default" })), {
    uri: "test:///default",
  });
  assert.equal(selectConnection(config, {}, env({ LV_CONTEXT: "local" })).context, "local");
  assert.equal(selectConnection(config, {}, env({ LV_CONTEXT: "local", LV_CONNECT: "x:///" })).uri, "x:///");
  assert.equal(selectConnection(config, { context: "local" }, env({ LV_CONNECT: "x:///" })).context, "local");
  assert.deepEqual(selectConnection(config, { connect: "y:///" }, env({ LV_CONTEXT: "lab" })), {
    uri: "y:///",
  });
  assert.throws(
    () => selectConnection(config, { connect: "a", context: "lab" }, env({})),
    /either --connect or --context/,
  );
  assert.throws(
    () => selectConnection(config, { context: "lba" }, env({}), "c.yaml"),
    /--context: no context named "lba" in c\.yaml \(contexts: lab, local\); did you mean "lab"\?/,
  );
  assert.throws(
    () => selectConnection(config, {}, env({ LV_CONTEXT: "nope" })),
    /LV_CONTEXT: no context named "nope"/,
  );
});

Deno.test("configPath: LV_CONFIG, else LV_HOME, else XDG_CONFIG_HOME, else ~/.config", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(configPath(env({ LV_CONFIG: "/a/c.yaml", LV_HOME: "/h" })), "/a/c.yaml");
  assert.equal(configPath(env({ LV_HOME: "/h", XDG_CONFIG_HOME: "/x" })), "/h/config.yaml");
  assert.equal(configPath(env({ XDG_CONFIG_HOME: "/x", HOME: "/home/u" })), "/x/lv/config.yaml");
  assert.equal(configPath(env({ HOME: "/home/u" })), "/home/u/.config/lv/config.yaml");
});

Deno.test("contextDefaults fill context, pool and management network into what a manifest leaves out", () => {
  const config = parseConfig(CONFIG, "c.yaml");
  const defaults = contextDefaults(selectConnection(config, {}, () => undefined));
  const text = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: web}
spec: {box: b}
---
apiVersion: lv.dev/v1alpha1
kind: Volume
metadata: {name: v}
spec: {size: 1Mi, pool: mine}
`;
  const { resources, problems } = parseManifests(text, "m.yaml", { specDefaults: defaults });
  assert.deepEqual(problems, []);
  const [dom, vol] = resources;
  assert.equal(dom.spec.context, "lab");
  assert.equal(dom.kind === "Domain" && dom.spec.storagePoolName, "fast");
  assert.equal(dom.kind === "Domain" && dom.spec.managementNetwork, "mgmt");
  assert.equal(vol.kind === "Volume" && vol.spec.pool, "mine", "a value the manifest gives wins");
  assert.deepEqual(contextDefaults({ uri: "qemu:///system" }), {});
});

Deno.test("saveConfig writes 0600 and reads back the same", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/sub/config.yaml`;
  const config: LvConfig = parseConfig(CONFIG, "c.yaml");
  saveConfig(path, config);
  assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
  assert.deepEqual(parseConfig(Deno.readTextFileSync(path), path), config);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("prepareTransport: lv's ssh wrapper, pinned known_hosts, askpass for a password", () => {
  const home = Deno.makeTempDirSync();
  const config = parseConfig(CONFIG, "c.yaml");
  const lab = selectConnection(config, {}, () => undefined);
  const t = prepareTransport(home, lab);
  const url = new URL(t.connectUri);
  assert.equal(url.protocol, "qemu+ssh:");
  assert.equal(url.searchParams.get("keyfile"), "/keys/id");
  assert.equal(url.searchParams.get("no_tty"), "1");
  const wrapper = url.searchParams.get("command")!;
  assert.equal(Deno.statSync(wrapper).mode! & 0o777, 0o700);
  const script = Deno.readTextFileSync(wrapper);
  assert.match(script, /UserKnownHostsFile=.*\/ssh\/known_hosts/);
  assert.match(script, /StrictHostKeyChecking=accept-new/);
  assert.match(script, /BatchMode=yes/);
  assert.deepEqual(
    { host: t.jump!.host, port: t.jump!.port, user: t.jump!.user, key: t.jump!.privateKeyFile },
    { host: "hv1.example", port: 2222, user: "root", key: "/keys/id" },
  );
  assert.match(t.jump!.proxyCommand, / -p 2222 -l root -i \/keys\/id -W %h:%p hv1\.example$/);

  const secret = "it's a $secret";
  const pw = prepareTransport(home, { ...lab, settings: { ...lab.settings!, password: secret } });
  const pwUrl = new URL(pw.connectUri);
  assert.equal(pwUrl.searchParams.get("no_tty"), null, "BatchMode would forbid the askpass");
  assert.ok(!pw.connectUri.includes("secret"), "the password is not in the URI");
  const pwScript = Deno.readTextFileSync(pwUrl.searchParams.get("command")!);
  assert.ok(!pwScript.includes("secret"), "nor in the wrapper");
  const askpass = /SSH_ASKPASS='?([^' ]+)'? SSH_ASKPASS_REQUIRE=force/.exec(pwScript)![1];
  assert.equal(Deno.statSync(askpass).mode! & 0o777, 0o700);
  assertNoFileHolds(home, secret);

  assert.deepEqual(prepareTransport(home, { uri: "qemu:///system" }), { connectUri: "qemu:///system" });
  Deno.removeSync(home, { recursive: true });
});

/** Every file under dir, recursively (symlinks and sockets skipped): none may contain `secret`. */
function assertNoFileHolds(dir: string, secret: string): void {
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) assertNoFileHolds(path, secret);
    else if (e.isFile) assert.ok(!Deno.readTextFileSync(path).includes(secret), `${path} holds the password`);
  }
}

Deno.test("the ssh wrapper gives ssh the password from the environment, its own or its parent's (virsh)", async () => {
  const home = Deno.makeTempDirSync();
  const secret = "it's a $secret with spaces";
  const lab = selectConnection(parseConfig(CONFIG, "c.yaml"), {}, () => undefined);
  const pw = prepareTransport(home, { ...lab, settings: { ...lab.settings!, password: secret } });
  const wrapper = new URL(pw.connectUri).searchParams.get("command")!;
  assertNoFileHolds(home, secret);
  // An ssh that asks its askpass the way OpenSSH does and prints the answer and its own arguments.
  const bin = `${home}/bin`;
  Deno.mkdirSync(bin);
  Deno.writeTextFileSync(`${bin}/ssh`, `#!/bin/sh\n"$SSH_ASKPASS" "password: "\necho "args: $*"\n`, {
    mode: 0o755,
  });
  const variable = /printenv (LV_SSH_PASSWORD_\w+)/.exec(Deno.readTextFileSync(wrapper))![1];
  assert.equal(Deno.env.get(variable), secret, "lv's own environment holds it for its children");
  const path = `${bin}:/usr/bin:/bin`;
  const run = async (command: string, args: string[]) => {
    const out = await new Deno.Command(command, {
      args,
      clearEnv: true,
      env: { PATH: path },
      stdout: "piped",
    })
      .output();
    return new TextDecoder().decode(out.stdout);
  };
  // rsync's ssh and its ProxyCommand inherit lv's environment
  const inherited = await run("env", [`${variable}=${secret}`, wrapper, "hv1"]);
  assert.equal(inherited, `${secret}\nargs: ${inherited.split("args: ")[1]}`);
  assert.ok(!inherited.split("args: ")[1].includes("secret"), "never an argument");
  // libvirt starts the wrapper with a stripped environment: the parent's (virsh's) holds the variable
  const stripped = await run("env", [
    `${variable}=${secret}`,
    "sh",
    "-c",
    `env -i PATH=${path} ${wrapper} hv1; true`,
  ]);
  assert.match(stripped, new RegExp(`^${secret.replace(/\$/g, "\\$")}\n`));
  // outside lv nobody holds it: no askpass, ssh asks on the terminal
  const outside = await run("sh", ["-c", `${wrapper} hv1; true`]);
  assert.match(outside, /^args: /);
  Deno.env.delete(variable);
  Deno.removeSync(home, { recursive: true });
});

Deno.test("a context's key file without a leading slash is in ~/.ssh, as vagrant-libvirt's id_ssh_key_file", () => {
  const home = Deno.makeTempDirSync();
  const userHome = Deno.env.get("HOME");
  Deno.env.set("HOME", "/home/me");
  try {
    const lab = selectConnection(parseConfig(CONFIG, "c.yaml"), {}, () => undefined);
    const keyOf = (idSshKeyFile: string) =>
      prepareTransport(home, { ...lab, settings: { ...lab.settings!, idSshKeyFile } }).jump!.privateKeyFile;
    assert.equal(keyOf("id_rsa"), "/home/me/.ssh/id_rsa", "a bare name, not ./id_rsa");
    assert.equal(keyOf("lab/id_ed25519"), "/home/me/.ssh/lab/id_ed25519");
    assert.equal(keyOf("~/keys/id"), "/home/me/keys/id");
    assert.equal(keyOf("/keys/id"), "/keys/id");
    const viaUri = prepareTransport(home, { uri: "qemu+ssh://root@hv1/system?keyfile=id_rsa" });
    assert.equal(new URL(viaUri.connectUri).searchParams.get("keyfile"), "/home/me/.ssh/id_rsa");
  } finally {
    if (userHome === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", userHome);
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("explainSshFailure says what went wrong and what to do", () => {
  const jump = {
    host: "hv1",
    port: 22,
    user: "root",
    privateKeyFile: "/k",
    knownHostsFile: "/kh",
    proxyCommand: "",
  };
  const cases: [string, RegExp][] = [
    ["ssh: connect to host hv1 port 22: Connection refused", /nothing accepts SSH connections on hv1:22/],
    ["root@hv1: Permission denied (publickey).", /refused root with the key \/k \(it accepts: publickey\)/],
    ["ssh: Could not resolve hostname hv1: Name or service not known", /cannot be resolved/],
    ["@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", /not the one lv pinned in \/kh/],
    [
      "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file",
      /libvirtd is not running on hv1/,
    ],
    ["sh: 1: nc: not found", /neither virt-ssh-helper nor nc/],
  ];
  for (const [stderr, want] of cases) assert.match(explainSshFailure(stderr, jump) ?? "", want, stderr);
  assert.equal(explainSshFailure("something else", jump), undefined);
});

Deno.test("lv config commands: set, use, get, view redacts, delete; bad input exits 2 and writes nothing", async () => {
  const home = Deno.makeTempDirSync();
  const prev = Deno.env.get("LV_HOME");
  Deno.env.set("LV_HOME", home);
  const run = async (...args: string[]) => {
    let out = "", err = "";
    const output: Output = { out: (t) => out += t, err: (t) => err += t };
    return { code: await main(args, output), out, err };
  };
  try {
    assert.equal((await run("config", "set-context", "a", "--host", "h", "--connect-via-ssh")).code, 0);
    assert.equal((await run("config", "use-context", "a")).code, 0);
    assert.equal((await run("config", "current-context")).out, "a\n");
    const before = Deno.readTextFileSync(`${home}/config.yaml`);
    const bad = await run("config", "set-context", "a", "--driver", "xen");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /contexts\[0\]\.driver: must be kvm or qemu; got "xen"/);
    assert.equal(Deno.readTextFileSync(`${home}/config.yaml`), before, "nothing was written");
    assert.equal((await run("config", "use-context", "b")).code, 1);
    assert.match((await run("config", "get-contexts")).out, /^\*\s+a\s+qemu\+ssh:\/\/h\/system/m);
    assert.equal((await run("config", "frobnicate")).code, 2);
    assert.equal((await run("get", "domains", "--context", "zzz")).code, 2);
    assert.equal((await run("config", "delete-context", "a")).code, 0);
    assert.equal((await run("config", "current-context")).code, 1);
  } finally {
    if (prev === undefined) Deno.env.delete("LV_HOME");
    else Deno.env.set("LV_HOME", prev);
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("references stay within one context, and a stored object keeps its context", () => {
  const text = (context: string) =>
    `apiVersion: lv.dev/v1alpha1
kind: Volume
metadata: {name: disk}
spec: {size: 1Mi, backingBox: base, context: ${context}}
`;
  const box = parseManifests(
    "apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata: {name: base}\nspec: {source: /b.img, context: a}\n",
    "b.yaml",
  ).resources[0];
  const stored = parseManifests(text("a"), "old.yaml").resources[0];
  const lookup = (kind: string, _ns: string, name: string) =>
    kind === "Box" && name === "base" ? box : kind === "Volume" && name === "disk" ? stored : undefined;
  const [vol] = parseManifests(text("b"), "v.yaml").resources;
  const found = validateReferences([vol], lookup as never).map((p) =>
    `${p.file}:${p.line}: ${p.path}: ${p.message}`
  );
  assert.deepEqual(found, [
    'v.yaml:4: spec.backingBox: Box "base" lives in context "a", this Volume in context "b": references stay within one context (one libvirt host)',
    'v.yaml:4: spec.context: Volume "disk" already lives in context "a"; this manifest puts it in context "b", and an object cannot move between contexts',
  ]);
  assert.deepEqual(validateReferences([vol], lookup as never, { contexts: false }), []);
  assert.deepEqual(validateReferences([stored], lookup as never), []);
});
