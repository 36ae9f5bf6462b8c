/**
 * Every guest OS family lv configures, booted for real under TCG from the box variants of
 * scripts/build_test_box.sh (ifupdown, NetworkManager, netplan) and its cloud image, all at once (one boot
 * each, shared by every check): the family detected and recorded in status.guest.os, the hostname, a static
 * address on a network without DHCP reached from another guest; a `#!/bin/bash` provisioner on a guest whose
 * /bin/sh is dash; the cloud image with `cloudInit: {}` on q35 (its seed a virtio-scsi CD-ROM; static address
 * from network-config) and examples/cloud-image.yaml (user data that writes a file), both from that example's
 * Box (one import); on the
 * netplan variant (python3, ansible-core, puppet, and Debian's generic kernel, which has 9p): an ansible_local
 * playbook uploaded by a file provisioner, a host ansible playbook with real modules (copy, become), each with
 * a host var, a puppet manifest with a fact, and a 9p folder mounted by lv (fstab) that carries files both
 * ways. The checks of several guests run at once.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import type { Domain } from "../../src/api/types.ts";
import { Lv, requireLab, ROOT, run, virshNames } from "../integration/helpers.ts";

const CLOUD_EXAMPLE = "examples/cloud-image.yaml";

/** The directory build_test_box.sh keeps a variant in (test.sh built it before the lab started). */
async function variantDir(variant: string): Promise<string> {
  const r = await run(`${ROOT}scripts/build_test_box.sh`, ["--variant", variant, "--print-dir"]);
  const dir = r.stdout.trim();
  const file = variant === "cloud" ? "debian12-cloud.qcow2" : "debian12.box";
  try {
    Deno.statSync(`${dir}/${file}`);
  } catch {
    throw new Error(
      `no ${variant} box in ${dir}: run the tests with scripts/test.sh (it builds the variants)`,
    );
  }
  return `${dir}/${file}`;
}

interface Guest {
  name: string;
  box: string;
  ip: string;
  os: string;
}

const GUESTS: Guest[] = [
  { name: "fam-ifupdown", box: "ifupdown", ip: "10.61.0.11", os: "ifupdown" },
  { name: "fam-nm", box: "networkmanager", ip: "10.61.0.12", os: "NetworkManager" },
  { name: "fam-netplan", box: "netplan", ip: "10.61.0.13", os: "netplan" },
];
const CLOUD_MIN = { name: "fam-cloud", ip: "10.61.0.14" };

const BASH_SCRIPT = `#!/bin/bash
# bash only: [[ ]], arrays and $BASH_VERSION (dash, the guest's /bin/sh, has none of them)
words=(shebang honoured)
if [[ -n "$BASH_VERSION" ]]; then echo "\${words[*]} by bash" > /var/tmp/lv-shebang; fi
`;

/** A playbook writing `{{ greeting }} from HOST` to `dest` with the copy module (python3 in the guest). */
const playbook = (dest: string, become: boolean) =>
  stringify([{
    hosts: "all",
    gather_facts: false,
    become,
    tasks: [{ copy: { content: "{{ greeting }} from {{ inventory_hostname }}\n", dest } }],
  }]);

/** The netplan guest's provisioners: ansible_local on a playbook a file provisioner uploads; ansible from here. */
function ansibleProvisioners(dir: string): unknown[] {
  Deno.mkdirSync(`${dir}/local`);
  Deno.writeTextFileSync(`${dir}/local/site.yml`, playbook("/home/vagrant/ansible-local.txt", false));
  Deno.writeTextFileSync(`${dir}/host.yml`, playbook("/etc/lv-ansible-host.txt", true));
  return [
    { type: "file", source: `${dir}/local`, destination: "/home/vagrant/playbooks" },
    {
      type: "ansible_local",
      playbook: "site.yml",
      provisioningPath: "/home/vagrant/playbooks",
      hostVars: { greeting: "hello-local" },
    },
    { type: "ansible", playbook: `${dir}/host.yml`, hostVars: { greeting: "hello-host" } },
    {
      type: "puppet",
      manifestsPath: puppetManifests(dir),
      manifestFile: "site.pp",
      facter: { greeting: "hello-puppet" },
    },
  ];
}

/** A manifest directory whose site.pp writes `{greeting fact} from HOSTNAME` to /etc/lv-puppet.txt. */
function puppetManifests(dir: string): string {
  Deno.mkdirSync(`${dir}/manifests`);
  Deno.writeTextFileSync(
    `${dir}/manifests/site.pp`,
    `file { '/etc/lv-puppet.txt':
  ensure  => file,
  content => "\${facts['greeting']} from \${facts['networking']['hostname']}\\n",
}
`,
  );
  return `${dir}/manifests`;
}

/**
 * The host directory of the netplan guest's 9p folder, with a file for the guest to read. QEMU (user
 * libvirt-qemu) serves it: world-writable, and accessmode squash (QEMU cannot give a file the guest's owner).
 */
function ninePDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "lv-families-9p-" });
  Deno.chmodSync(dir, 0o777);
  Deno.writeTextFileSync(`${dir}/from-host.txt`, "written on the host\n");
  return dir;
}

async function manifest(nine: string): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "lv-families-" });
  const docs: unknown[] = [];
  for (const v of ["ifupdown", "networkmanager", "netplan"]) {
    docs.push({
      apiVersion: "lv.dev/v1alpha1",
      kind: "Box",
      metadata: { name: `fam-${v}` },
      spec: { source: await variantDir(v) },
    });
  }
  // The cloud guests share the example's Box (its source is build_test_box.sh's current cloud image).
  await variantDir("cloud");
  docs.push(
    {
      apiVersion: "lv.dev/v1alpha1",
      kind: "Network",
      metadata: { name: "fam-nat" },
      spec: { mode: "nat", ipv4: { address: "10.60.0.1", prefix: 24 } },
    },
    {
      apiVersion: "lv.dev/v1alpha1",
      kind: "Network",
      metadata: { name: "fam-backend" },
      spec: { mode: "isolated", ipv4: { address: "10.61.0.1", prefix: 24 }, dhcp: { enabled: false } },
    },
  );
  for (const g of GUESTS) {
    docs.push({
      apiVersion: "lv.dev/v1alpha1",
      kind: "Domain",
      metadata: { name: g.name },
      spec: {
        box: `fam-${g.box}`,
        driver: "qemu",
        memory: 512,
        interfaces: [{ network: "fam-nat" }, { network: "fam-backend", ip: g.ip }],
        ...(g.box === "ifupdown" ? { provision: [{ type: "shell", inline: BASH_SCRIPT }] } : {}),
        ...(g.box === "netplan"
          ? {
            provision: ansibleProvisioners(dir),
            syncedFolders: [{ source: nine, target: "/srv/nine", type: "9p", accessmode: "squash" }],
          }
          : {}),
      },
    });
  }
  docs.push({
    apiVersion: "lv.dev/v1alpha1",
    kind: "Domain",
    metadata: { name: CLOUD_MIN.name },
    spec: {
      box: "debian12-cloud",
      driver: "qemu",
      // q35: the seed is a virtio-scsi CD-ROM there (the cloud kernel has no AHCI for a SATA one).
      machineType: "q35",
      memory: 768,
      interfaces: [{ network: "fam-nat" }, { network: "fam-backend", ip: CLOUD_MIN.ip }],
      cloudInit: {},
    },
  });
  const file = `${dir}/families.yaml`;
  Deno.writeTextFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

Deno.test("guest OS families and cloud images: hostname, static addresses, cloud-init, shebang, provisioners, 9p", async (t) => {
  requireLab();
  const lv = new Lv();
  const nine = ninePDir();
  const file = await manifest(nine);
  const sshOut = async (name: string, cmd: string) => (await lv.ok(["ssh", name, "--", cmd])).stdout;
  /** One command's output per guest, the guests asked at once. */
  const eachAtOnce = <T>(items: T[], fn: (item: T) => Promise<void>) => Promise.all(items.map(fn));
  const before = await virshNames("domains");
  const deleteAll = ["delete", "-f", file, "-f", CLOUD_EXAMPLE, "--timeout=5m"];
  try {
    await t.step("apply brings every variant and both cloud guests up (in parallel)", async () => {
      const r = await lv.ok(["apply", "-f", file, "-f", CLOUD_EXAMPLE, "--timeout=30m"]);
      assert.match(r.stderr, /domain\/fam-nm: Networks: static 10\.61\.0\.12\/24 on 52:54:00/);
      assert.match(r.stdout, /domain\/cloud-vm created/);
      assert.match(
        r.stderr,
        new RegExp(`domain/fam-netplan: Mounted: ${nine} mounted on /srv/nine \\(9p\\)`),
      );
    });

    await t.step("each family is detected and recorded in status.guest.os", async () => {
      const list = parse((await lv.ok(["get", "domains", "-o", "yaml"])).stdout);
      const os = new Map(list.items.map((d: Domain) => [d.metadata.name, d.status.guest?.os]));
      for (const g of [...GUESTS, { ...CLOUD_MIN, os: "systemd-networkd" }]) {
        assert.equal(os.get(g.name), g.os, g.name);
      }
    });

    await t.step("hostname and the static address inside each guest", async () => {
      await eachAtOnce([...GUESTS, CLOUD_MIN], async (g) => {
        const [hostname, ...addrs] = (await sshOut(g.name, "hostname; ip -4 -o addr show")).split("\n");
        assert.equal(hostname, g.name);
        assert.match(addrs.join("\n"), new RegExp(`inet ${g.ip.replace(/\./g, "\\.")}/24`), g.name);
      });
    });

    await t.step(
      "each static address is reached from another guest over the network without DHCP",
      async () => {
        await eachAtOnce([...GUESTS, CLOUD_MIN], async (g) => {
          const from = g.name === "fam-nm" ? "fam-ifupdown" : "fam-nm";
          assert.match(
            await sshOut(from, `ssh-keyscan -T 20 -t ed25519 ${g.ip}`),
            new RegExp(`^${g.ip} ssh-ed25519 `, "m"),
          );
        });
      },
    );

    await t.step("a #!/bin/bash provisioner runs with bash on a guest whose /bin/sh is dash", async () => {
      assert.equal(
        await sshOut("fam-ifupdown", "readlink -f /bin/sh; cat /var/tmp/lv-shebang"),
        "/usr/bin/dash\nshebang honoured by bash\n",
      );
    });

    await t.step(
      "ansible_local in the guest, ansible from the host and puppet, each with its var",
      async () => {
        assert.equal(
          await sshOut(
            "fam-netplan",
            "cat ansible-local.txt /etc/lv-ansible-host.txt /etc/lv-puppet.txt; stat -c %U /etc/lv-ansible-host.txt",
          ),
          "hello-local from fam-netplan\nhello-host from fam-netplan\nhello-puppet from fam-netplan\nroot\n",
        );
      },
    );

    await t.step(
      "a 9p folder in the guest: mounted from lv's fstab block, files carried both ways",
      async () => {
        assert.match(
          await sshOut("fam-netplan", "uname -r; findmnt -n -o FSTYPE,SOURCE /srv/nine; cat /etc/fstab"),
          /^\S+-amd64\n9p\s+lv[0-9a-f]{24}\n[\s\S]*^# lv-begin 9p\nlv[0-9a-f]{24} \/srv\/nine 9p trans=virtio,version=9p2000\.L,nofail 0 0\n# lv-end 9p$/m,
        );
        assert.equal(
          await sshOut(
            "fam-netplan",
            "cat /srv/nine/from-host.txt; echo written by the guest | sudo tee /srv/nine/from-guest.txt",
          ),
          "written on the host\nwritten by the guest\n",
        );
        assert.equal(Deno.readTextFileSync(`${nine}/from-guest.txt`), "written by the guest\n");
      },
    );

    await t.step(
      "the cloud image (one on q35): lv's user with passwordless sudo, the user data's file, lv's host key",
      async () => {
        const [min, vm, dom] = await Promise.all([
          sshOut(CLOUD_MIN.name, "sudo -n whoami; cat /sys/class/dmi/id/product_name"),
          sshOut(
            "cloud-vm",
            "cat /etc/lv-cloud-init /var/tmp/lv-hostname-at-first-boot; sudo cloud-init status; " +
              "sudo cat /etc/ssh/ssh_host_ed25519_key.pub",
          ),
          lv.ok(["get", "domain", "cloud-vm", "-o", "yaml"]).then((r) => parse(r.stdout)),
        ]);
        // lv's user exists only if cloud-init read the seed: on q35, from the virtio-scsi CD-ROM.
        assert.deepEqual(min.trim().split("\n"), ["root", "Standard PC (Q35 + ICH9, 2009)"]);
        const lines = vm.trim().split("\n");
        assert.deepEqual(lines.slice(0, 2), ["written by cloud-init from lv's seed", "cloud-vm"]);
        assert.match(vm, /^status: done$/m);
        const hostKey = lines.find((l) => l.startsWith("ssh-ed25519 "))?.split(" ").slice(0, 2).join(" ");
        assert.equal(dom.status.sshHostKey, hostKey, "the host key lv put in the seed is the one pinned");
        assert.match(dom.status.cloudInitSeed.volume, /^cloud-vm-cidata-[0-9a-f]{12}\.iso$/);
      },
    );

    await t.step("delete removes the guests and their seed volumes", async () => {
      await lv.ok(deleteAll);
      assert.deepEqual(await virshNames("domains"), before);
      assert.deepEqual((await virshNames("volumes")).filter((v) => v.includes("cidata")), []);
    });
  } finally {
    await lv.run([...deleteAll, "--ignore-not-found"]);
    lv.cleanup();
    Deno.removeSync(nine, { recursive: true });
  }
});
