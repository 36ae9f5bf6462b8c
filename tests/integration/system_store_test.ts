/**
 * Whose store: every user who may use qemu:///system sees the same objects (the system store,
 * /var/lib/lv/store.db, group libvirt). Three users made for the test with useradd, visible in the lab
 * only (two in group libvirt, one not), run the bundled lv (no LV_HOME, as people do) through setpriv: A
 * applies a domain, B lists it and halts it, C gets an error naming the store. The lab's mount namespace
 * gets a tmpfs over /var/lib/lv, so the machine's own is untouched; root runs lv first, as setup.sh does,
 * and prepares the directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { disklessDomain, exists, requireLab, ROOT, type Run, run, virsh } from "./helpers.ts";
import { streaming } from "./streaming.ts";

const STORE_DIR = "/var/lib/lv";
const STORE = `${STORE_DIR}/store.db`;
const NAME = "shared-web";

const MANIFEST = disklessDomain(NAME);
const NETWORK = `apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: b-own-net}
spec: {mode: isolated, ipv4: {address: 10.126.0.1, prefix: 24}}
`;

async function must(cmd: string, args: string[]): Promise<Run> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** A user made for the test: a home of its own, lv run as it with setpriv (its groups from /etc/group). */
class User {
  readonly home: string;
  constructor(readonly name: string, readonly groups: string[]) {
    this.home = Deno.makeTempDirSync({ prefix: `lv-${name}-` });
  }

  /** useradd into the user files under `prefix` (see {@linkcode LabUsers}). */
  async create(prefix: string): Promise<void> {
    const extra = this.groups.length ? ["-G", this.groups.join(",")] : [];
    await must("useradd", ["--prefix", prefix, "-M", "-d", this.home, "-s", "/bin/sh", ...extra, this.name]);
  }

  /** Once the users are visible: the home is the user's. */
  async own(): Promise<void> {
    await must("chown", [`${this.name}:`, this.home]);
    Deno.chmodSync(this.home, 0o700);
  }

  async lv(bundle: string, args: string[]): Promise<Run> {
    const [cmd, ...rest] = this.argv(bundle, args);
    return await run(cmd, rest, { cwd: this.home });
  }

  /** `lv ARGS` as this user, as an argv. */
  argv(bundle: string, args: string[]): string[] {
    return [
      "setpriv",
      `--reuid=${this.name}`,
      `--regid=${this.name}`,
      "--init-groups",
      "--",
      "env",
      "-i",
      `HOME=${this.home}`,
      `USER=${this.name}`,
      `PATH=${Deno.env.get("PATH")}`,
      `DENO_DIR=${this.home}/.deno`,
      "NO_COLOR=1",
      Deno.execPath(),
      "run",
      "-A",
      "--no-config",
      bundle,
      ...args,
    ];
  }

  async ok(bundle: string, args: string[]): Promise<Run> {
    const r = await this.lv(bundle, args);
    if (r.code !== 0) {
      throw new Error(`${this.name}: lv ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`);
    }
    return r;
  }

  remove(): void {
    Deno.removeSync(this.home, { recursive: true });
  }
}

/**
 * Users made with useradd --prefix in copies of /etc's user files, which are then bind-mounted over
 * /etc/passwd and /etc/group in the lab's mount namespace only: nothing outside the lab sees them, and
 * nothing is left behind when the test dies.
 */
class LabUsers {
  readonly prefix = Deno.makeTempDirSync({ prefix: "lv-users-" });
  #bound: string[] = [];

  constructor() {
    Deno.mkdirSync(`${this.prefix}/etc`);
    for (const f of ["passwd", "group", "shadow", "gshadow", "login.defs"]) {
      if (exists(`/etc/${f}`)) Deno.copyFileSync(`/etc/${f}`, `${this.prefix}/etc/${f}`);
    }
  }

  async make(users: User[]): Promise<void> {
    for (const u of users) await u.create(this.prefix);
    for (const f of ["passwd", "group"]) {
      await must("mount", ["--bind", `${this.prefix}/etc/${f}`, `/etc/${f}`]);
      this.#bound.push(`/etc/${f}`);
    }
    for (const u of users) await u.own();
  }

  async remove(): Promise<void> {
    for (const path of this.#bound.reverse()) await run("umount", [path]);
    Deno.removeSync(this.prefix, { recursive: true });
  }
}

/** The gid of a group. */
async function gidOf(group: string): Promise<number> {
  return Number((await must("getent", ["group", group])).stdout.split(":")[2]);
}

Deno.test("qemu:///system: users of group libvirt share the system store; others are told why not", async (t) => {
  requireLab();
  const made = !exists(STORE_DIR);
  if (made) Deno.mkdirSync(STORE_DIR);
  await must("mount", ["-t", "tmpfs", "-o", "mode=0755", "lv-system-store", STORE_DIR]);
  const work = Deno.makeTempDirSync({ prefix: "lv-system-store-" });
  Deno.chmodSync(work, 0o755);
  const bundle = join(work, "lv.js");
  const id = Deno.pid % 100000;
  const [a, b, c] = [
    new User(`lvsa${id}`, ["libvirt"]),
    new User(`lvsb${id}`, ["libvirt"]),
    new User(`lvsc${id}`, []),
  ];
  const root = new User("root", []);
  const users = new LabUsers();
  const libvirtGid = await gidOf("libvirt");
  try {
    await must(Deno.execPath(), ["bundle", "--quiet", "--external", "*.node", "-o", bundle, `${ROOT}mod.ts`]);
    Deno.chmodSync(bundle, 0o644);
    await users.make([a, b, c]);

    await t.step(
      "root's first lv makes /var/lib/lv root:libvirt 2770 and the store libvirt 0660",
      async () => {
        await root.ok(bundle, ["get", "domains"]);
        const dir = Deno.statSync(STORE_DIR);
        assert.deepEqual([dir.mode! & 0o7777, dir.uid, dir.gid], [0o2770, 0, libvirtGid]);
        const file = Deno.statSync(STORE);
        assert.deepEqual([file.mode! & 0o777, file.gid], [0o660, libvirtGid]);
      },
    );

    await t.step(
      "user A, in a directory setup.sh made, creates the store and applies a domain into it",
      async () => {
        // As on a machine where setup.sh made only the directory: the first member to run lv creates the file.
        for (const entry of [...Deno.readDirSync(STORE_DIR)]) Deno.removeSync(join(STORE_DIR, entry.name));
        Deno.writeTextFileSync(join(a.home, "web.yaml"), MANIFEST);
        const r = await a.ok(bundle, ["apply", "-f", "web.yaml", "--timeout=120s"]);
        const file = Deno.statSync(STORE);
        const uid = Number((await must("id", ["-u", a.name])).stdout.trim());
        assert.deepEqual(
          [file.mode! & 0o777, file.uid, file.gid],
          [0o660, uid, libvirtGid],
          "0660 whatever the umask",
        );
        assert.match(r.stdout, new RegExp(`domain/${NAME} created`));
        assert.equal((await virsh("domstate", NAME)).trim(), "running");
        assert.ok(!exists(join(a.home, ".local/share/lv/store.db")), "A has no store of its own");
      },
    );

    await t.step("user B sees A's domain and halts it; A's watch sees it stop", async () => {
      const list = await b.ok(bundle, ["get", "domains", "-o", "name"]);
      assert.equal(list.stdout, `domain/${NAME}\n`);
      // A watches while B writes: both have the store open, as two users' lv processes do.
      const watch = streaming(
        a.argv(bundle, [
          "get",
          "domains",
          "-w",
          "-o",
          "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
        ]),
        { cwd: a.home },
      );
      try {
        await watch.until(new RegExp(`\n${NAME} +Running\n`));
        await b.ok(bundle, ["halt", NAME, "--timeout=60s"]);
        assert.equal((await virsh("domstate", NAME)).trim(), "shut off");
        await watch.until(new RegExp(`\n${NAME} +Stopped\n`));
        // SQLite's -wal and -shm files exist while the store is open: group libvirt 0660 like the file.
        const files = [...Deno.readDirSync(STORE_DIR)].map((e) => e.name).sort();
        assert.deepEqual(files, ["store.db", "store.db-shm", "store.db-wal"]);
        for (const name of files) {
          const s = Deno.statSync(join(STORE_DIR, name));
          assert.deepEqual([name, s.mode! & 0o777, s.gid], [name, 0o660, libvirtGid]);
        }
      } finally {
        await watch.stop();
      }
      const seen = JSON.parse((await a.ok(bundle, ["get", "domain", NAME, "-o", "json"])).stdout);
      assert.equal(seen.spec.state, "Stopped", "A sees B's halt");
    });

    await t.step("lv doctor and lv config view say where the store is", async () => {
      const doctor = await b.lv(bundle, ["doctor"]);
      assert.match(
        doctor.stdout,
        /store\s+ok\s+\/var\/lib\/lv\/store\.db mode 660, group libvirt \(the system store of qemu:\/\/\/system, shared by group libvirt\)/,
      );
      const view = await b.ok(bundle, ["config", "view"]);
      assert.match(
        view.stdout,
        /^# store in use: \/var\/lib\/lv\/store\.db \(the system store of qemu:\/\/\/system/,
      );
    });

    await t.step("user C, not in group libvirt, gets an error naming the store and the fix", async () => {
      const r = await c.lv(bundle, ["get", "domains"]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^error: cannot open the store \/var\/lib\/lv\/store\.db: permission denied\./);
      assert.match(r.stderr, new RegExp(`usermod -aG libvirt ${c.name}`));
    });

    await t.step("with qemu:///session each user keeps a store of their own", async () => {
      const view = await c.ok(bundle, ["config", "view", "--connect", "qemu:///session"]);
      const own = join(c.home, ".local/share/lv/store.db");
      assert.match(
        view.stdout,
        new RegExp(`^# store in use: ${own} \\(your own store \\(qemu:///session\\)\\)`),
      );
      assert.equal(
        (await c.ok(bundle, ["get", "domains", "--connect", "qemu:///session", "-o", "name"])).stdout,
        "",
      );
      assert.equal(Deno.statSync(own).mode! & 0o777, 0o600);
    });

    await t.step("lv doctor points at objects left in a user's own store, and how to move them", async () => {
      Deno.writeTextFileSync(join(b.home, "net.yaml"), NETWORK);
      // B's own store as an lv before the system store left it: one Network in ~/.local/share/lv/store.db.
      const own = join(b.home, ".local/share/lv/store.db");
      await b.ok(bundle, ["apply", "-f", "net.yaml", "--store", `sqlite:${own}`, "--wait=false"]);
      const doctor = await b.lv(bundle, ["doctor"]);
      assert.match(doctor.stdout, new RegExp(`own store +warn +${own} holds 1 object lv no longer reads`));
      assert.match(doctor.stdout, new RegExp(`lv store migrate --store sqlite:${own} --to sqlite:${STORE}`));
    });
    await t.step(
      "root deletes what A applied: root's writes keep the files usable by the group",
      async () => {
        await root.ok(bundle, ["delete", "domain", NAME, "--timeout=60s"]);
        assert.equal((await b.ok(bundle, ["get", "domains", "-o", "name"])).stdout, "");
      },
    );
  } finally {
    await virsh("destroy", NAME).catch(() => {});
    await virsh("undefine", NAME, "--nvram").catch(() => {});
    for (const u of [a, b, c]) u.remove();
    await users.remove();
    await run("umount", [STORE_DIR]);
    if (made) Deno.removeSync(STORE_DIR);
    Deno.removeSync(work, { recursive: true });
    Deno.removeSync(root.home, { recursive: true });
  }
});
