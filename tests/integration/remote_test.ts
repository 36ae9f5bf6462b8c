/**
 * A remote hypervisor over SSH: lv runs in a "workstation" network namespace and reaches the lab's libvirtd
 * only through a real sshd (a real qemu+ssh:// connection), with key and with password authentication.
 * Contexts from the config file, spec.context, `get -A`, the box uploaded there, `lv logs` read from the
 * host through libvirt, and the clear errors for an unreachable host, a refused key, a changed host key,
 * a missing libvirtd and a missing pool.
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, run, virshNames, waitFor } from "./helpers.ts";
import { startRemoteHost } from "./remote_host.ts";

const BASIC = "examples/basic.yaml";

Deno.test("a context on a remote libvirt host over ssh", async (t) => {
  requireLab();
  const host = await startRemoteHost();
  const lv = new Lv();
  lv.prefix = ["ip", "netns", "exec", host.netns];
  /** `lv config set-context NAME` with the flags that reach the host over ssh as root, then `extra`. */
  const setContext = (
    name: string,
    extra: string[],
    options: { port?: number; key?: string; stdin?: string } = {},
  ) =>
    lv.ok([
      "config",
      "set-context",
      name,
      ...["--host", host.address, "--port", String(options.port ?? host.port), "--connect-via-ssh"],
      ...[
        "--username",
        "root",
        ...(options.key === "" ? [] : ["--id-ssh-key-file", options.key ?? host.keyFile]),
      ],
      ...extra,
    ], { stdin: options.stdin });
  const before = { domains: await virshNames("domains"), volumes: await virshNames("volumes") };
  try {
    await t.step("the workstation reaches the hypervisor's sshd, and no guest network", async () => {
      const r = await run("ip", ["netns", "exec", host.netns, "ip", "route", "get", "10.123.0.2"]);
      assert.notEqual(r.code, 0, `the workstation must have no route to guests: ${r.stdout}`);
    });

    await t.step("set-context, use-context, get-contexts", async () => {
      const set = await setContext("hv1", ["--storage-pool-name", "default"]);
      assert.match(set.stdout, /Context "hv1" created/);
      assert.equal((await Deno.stat(`${lv.home}/config.yaml`)).mode! & 0o777, 0o600);
      await lv.ok(["config", "use-context", "hv1"]);
      assert.equal((await lv.ok(["config", "current-context"])).stdout, "hv1\n");
      const table = (await lv.ok(["config", "get-contexts"])).stdout;
      assert.match(
        table,
        new RegExp(`\\*\\s+hv1\\s+qemu\\+ssh://root@${host.address}:${host.port}/system\\s+default`),
      );
    });

    await t.step("apply through the context: objects record it, libvirt (over ssh) has them", async () => {
      const r = await lv.ok(["apply", "-f", BASIC, "--timeout=120s"]);
      assert.match(r.stdout, /domain\/web created/);
      // The box went over the ssh connection (vol-upload), with progress lines (stderr is not a terminal).
      assert.match(r.stderr, /box\/tiny: uploaded box-tiny: 1\.0 MiB in /);
      assert.deepEqual(
        (await virshNames("domains")).filter((d) => !before.domains.includes(d)),
        ["web"],
      );
      const vols = (await virshNames("volumes")).filter((v) => !before.volumes.includes(v));
      // web-serial0.log: the serial log of web, a volume lv made for libvirt's log daemon on the host.
      assert.deepEqual(vols, ["box-tiny", "web", "web-data", "web-serial0.log"]);
      const dom = JSON.parse((await lv.ok(["get", "domain", "web", "-o", "json"])).stdout);
      assert.equal(dom.spec.context, "hv1");
      const known = Deno.readTextFileSync(`${lv.home}/ssh/known_hosts`);
      assert.match(known, new RegExp(`^\\[${host.address}\\]:${host.port} ssh-ed25519 `, "m"));
      // Every virsh command ran over the ssh connection.
      assert.ok(lv.virshCalls().length > 0);
    });

    await t.step("get -A shows the CONTEXT column; without -A only the selected context", async () => {
      const all = (await lv.ok(["get", "domains", "-A"])).stdout;
      assert.match(all.split("\n")[0], /^NAMESPACE\s+CONTEXT\s+NAME/);
      assert.match(all, /default\s+hv1\s+web\s/);
      const local = await lv.ok(["get", "domains", "--connect", "qemu:///system"]);
      assert.equal(local.stdout, "");
      assert.match(local.stderr, /No domains found/);
    });

    await t.step("an object cannot move to another context", async () => {
      const r = await lv.run(["apply", "-f", BASIC, "--connect", "qemu:///system"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /basic\.yaml:\d+:\d+: .*already lives in context "hv1"/);
    });

    await t.step("a second apply through the context changes nothing", async () => {
      const r = await lv.ok(["apply", "-f", BASIC]);
      assert.doesNotMatch(r.stdout, /created|configured/);
    });

    await t.step(
      "lv logs through the context: the firmware's lines, read from the log volume on the host",
      async () => {
        await waitFor(
          async () => /SeaBIOS/.test((await lv.run(["logs", "web"])).stdout),
          "lv logs web shows SeaBIOS's banner",
          90_000,
        );
        const r = await lv.ok(["logs", "web"]);
        assert.match(r.stdout, /Booting from Hard Disk/);
        assert.ok(lv.virshCalls().some((c) => c.includes("vol-download")), "read through libvirt");
      },
    );

    const failing = async (args: string[], pattern: RegExp) => {
      const r = await lv.run(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /nothing was applied/);
      assert.doesNotMatch(r.stdout, /created|configured/);
    };
    const other = `${lv.home}/other.yaml`;
    Deno.writeTextFileSync(
      other,
      "apiVersion: lv.dev/v1alpha1\nkind: Volume\nmetadata: {name: other}\nspec: {size: 1Mi}\n",
    );

    await t.step("unreachable host: a clear error before anything is written", async () => {
      await setContext("down", [], { port: 2299 });
      await failing(
        ["apply", "-f", other, "--context", "down"],
        /nothing accepts SSH connections on 10\.251\.0\.1:2299: is sshd running there\?/,
      );
    });

    await t.step("a refused key", async () => {
      const wrong = `${lv.home}/wrong_key`;
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong]);
      await setContext("badkey", [], { key: wrong });
      await failing(["apply", "-f", other, "--context", "badkey"], /refused root with the key .*wrong_key/);
    });

    await t.step("libvirtd missing on the host", async () => {
      await lv.ok([
        "config",
        "set-context",
        "nolibvirt",
        "--uri",
        `qemu+ssh://root@${host.address}:${host.bareHostPort}/system?keyfile=${host.keyFile}`,
      ]);
      await failing(
        ["apply", "-f", other, "--context", "nolibvirt"],
        /libvirtd is not running on 10\.251\.0\.1/,
      );
    });

    await t.step("a missing storage pool is created as a dir pool on the remote host", async () => {
      await setContext("nopool", ["--storage-pool-name", "nosuchpool"]);
      await lv.ok(["apply", "-f", other, "--context", "nopool", "--timeout=60s"]);
      const got = (await lv.ok(["get", "volume", "other", "--context", "nopool", "-o", "wide"])).stdout;
      assert.match(got, /\/var\/lib\/libvirt\/lv-pools\/nosuchpool\//);
      await lv.ok(["delete", "volume", "other", "--context", "nopool", "--timeout=30s"]);
    });

    await t.step("password authentication, never shown or stored", async () => {
      await setContext("pw", ["--password-stdin"], { key: "", stdin: `${host.password}\n` });
      const version = await lv.ok(["version", "--context", "pw"]);
      assert.match(version.stdout, /libvirt qemu\+ssh:\/\/root@10\.251\.0\.1:2222\/system: .*libvirt 9/i);
      const r = await lv.ok(["apply", "-f", other, "--context", "pw", "--timeout=60s"]);
      assert.match(r.stdout, /volume\/other created/);
      const seen = [
        r.stdout + r.stderr,
        (await lv.ok(["get", "volume", "other", "-o", "yaml", "-A"])).stdout,
        (await lv.ok(["describe", "volume", "other", "--context", "pw"])).stdout,
        (await lv.ok(["config", "view"])).stdout,
        (await lv.ok(["config", "get-contexts"])).stdout,
        Deno.readTextFileSync(lv.virshLog),
        (await run("sqlite3", [`${lv.home}/store.db`, ".dump"])).stdout,
      ];
      for (const text of seen) assert.ok(!text.includes(host.password), `the password leaked: ${text}`);
      // Only the config file holds it: lv's ssh wrapper and askpass read it from the environment.
      const files = (await run("find", [lv.home, "-type", "f", "!", "-name", "config.yaml"])).stdout.trim()
        .split("\n");
      assert.ok(files.some((f) => f.endsWith("/askpass")), files.join("\n"));
      for (const f of files) {
        assert.ok(!Deno.readTextFileSync(f).includes(host.password), `${f} holds the password`);
      }
      assert.match((await lv.ok(["config", "view"])).stdout, /password: REDACTED/);
      await lv.ok(["delete", "volume", "other", "--context", "pw"]);

      // A wrong password is refused with a clear error.
      await lv.ok(["config", "set-context", "pw", "--password-stdin"], { stdin: "not it\n" });
      await failing(["apply", "-f", other, "--context", "pw"], /refused root with the password/);
    });

    await t.step("a changed host key is refused, naming the pinned file", async () => {
      await host.changeHostKey();
      // Connection masters opened before the change would still use the old, trusted connection.
      await host.stopWorkstationProcesses();
      await failing(["apply", "-f", other], /host key of 10\.251\.0\.1:2222 is not the one lv pinned/);
      // The user accepts the new key the way the message says; lv goes on.
      const known = `${lv.home}/ssh/known_hosts`;
      Deno.writeTextFileSync(
        known,
        Deno.readTextFileSync(known).split("\n").filter((l) =>
          !l.startsWith(`[${host.address}]:${host.port} `)
        )
          .join("\n"),
      );
    });

    await t.step("a box uploaded to the remote pool, listed, and pruned once nothing uses it", async () => {
      const boxFile = `${lv.home}/spare.yaml`;
      Deno.writeTextFileSync(
        boxFile,
        `apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata: {name: spare}\nspec: {source: ${ROOT}examples/tiny.img}\n`,
      );
      await lv.ok(["apply", "-f", boxFile]);
      assert.ok((await virshNames("volumes")).includes("box-spare"));
      const list = (await lv.ok(["box", "list"])).stdout;
      assert.match(list, /spare/);
      assert.match(list, /tiny/);
      const dry = await lv.ok(["box", "prune", "--dry-run"]);
      assert.match(dry.stdout, /spare/);
      assert.doesNotMatch(dry.stdout, /tiny/, "box tiny is used by volume web");
      assert.ok((await virshNames("volumes")).includes("box-spare"), "--dry-run removes nothing");
      await lv.ok(["box", "prune"]);
      assert.ok(!(await virshNames("volumes")).includes("box-spare"));
      assert.ok((await virshNames("volumes")).includes("box-tiny"));
    });

    await t.step("delete through the context leaves libvirt as before", async () => {
      await lv.ok(["delete", "-f", BASIC, "--timeout=120s"]);
      assert.deepEqual(await virshNames("domains"), before.domains);
      assert.deepEqual(await virshNames("volumes"), before.volumes);
    });
  } finally {
    await host.stop();
    lv.cleanup();
  }
});
