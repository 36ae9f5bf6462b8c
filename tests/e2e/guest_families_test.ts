/**
 * Every guest OS family lv configures, booted for real under TCG from the box variants of
 * scripts/build_test_box.sh (ifupdown, NetworkManager, netplan) and its cloud image, all at once (one boot
 * each, shared by every check): the family detected and recorded in status.guest.os, the hostname, a static
 * address on a network without DHCP reached from another guest; a `#!/bin/bash` provisioner on a guest whose
 * /bin/sh is dash; the cloud image with `cloudInit: {}` (static address from network-config) and
 * examples/cloud-image.yaml (user data that writes a file); on the netplan variant (it has python3 and
 * ansible-core), an ansible_local playbook uploaded by a file provisioner and a host ansible playbook with
 * real modules (copy, become), each with a host var.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
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
  ];
}

async function manifest(): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "lv-families-" });
  const docs: unknown[] = [];
  for (const v of ["ifupdown", "networkmanager", "netplan", "cloud"]) {
    docs.push({
      apiVersion: "lv.dev/v1alpha1",
      kind: "Box",
      metadata: { name: `fam-${v}` },
      spec: { source: await variantDir(v) },
    });
  }
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
        ...(g.box === "netplan" ? { provision: ansibleProvisioners(dir) } : {}),
      },
    });
  }
  docs.push({
    apiVersion: "lv.dev/v1alpha1",
    kind: "Domain",
    metadata: { name: CLOUD_MIN.name },
    spec: {
      box: "fam-cloud",
      driver: "qemu",
      memory: 768,
      interfaces: [{ network: "fam-nat" }, { network: "fam-backend", ip: CLOUD_MIN.ip }],
      cloudInit: {},
    },
  });
  const file = `${dir}/families.yaml`;
  Deno.writeTextFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
  return file;
}

Deno.test("guest OS families and cloud images: hostname, static addresses, cloud-init, shebang", async (t) => {
  requireLab();
  const lv = new Lv();
  const file = await manifest();
  const sshOut = async (name: string, cmd: string) => (await lv.ok(["ssh", name, "--", cmd])).stdout;
  const before = await virshNames("domains");
  try {
    await t.step("apply brings every variant and both cloud guests up (in parallel)", async () => {
      const r = await lv.ok(["apply", "-f", file, "-f", CLOUD_EXAMPLE, "--timeout=20m"]);
      assert.match(r.stderr, /domain\/fam-nm: Networks: static 10\.61\.0\.12\/24 on 52:54:00/);
      assert.match(r.stdout, /domain\/cloud-vm created/);
    });

    await t.step("each family is detected and recorded in status.guest.os", async () => {
      for (const g of [...GUESTS, { ...CLOUD_MIN, os: "systemd-networkd" }]) {
        const dom = parse((await lv.ok(["get", "domain", g.name, "-o", "yaml"])).stdout);
        assert.equal(dom.status.guest.os, g.os, g.name);
      }
    });

    await t.step("hostname and the static address inside each guest", async () => {
      for (const g of [...GUESTS, CLOUD_MIN]) {
        assert.equal((await sshOut(g.name, "hostname")).trim(), g.name);
        assert.match(
          await sshOut(g.name, "ip -4 -o addr show"),
          new RegExp(`inet ${g.ip.replace(/\./g, "\\.")}/24`),
        );
      }
    });

    await t.step(
      "each static address is reached from another guest over the network without DHCP",
      async () => {
        for (const g of [...GUESTS, CLOUD_MIN]) {
          const from = g.name === "fam-nm" ? "fam-ifupdown" : "fam-nm";
          assert.match(
            await sshOut(from, `ssh-keyscan -T 20 -t ed25519 ${g.ip}`),
            new RegExp(`^${g.ip} ssh-ed25519 `, "m"),
          );
        }
      },
    );

    await t.step("a #!/bin/bash provisioner runs with bash on a guest whose /bin/sh is dash", async () => {
      assert.equal((await sshOut("fam-ifupdown", "readlink -f /bin/sh")).trim(), "/usr/bin/dash");
      assert.equal(
        (await sshOut("fam-ifupdown", "cat /var/tmp/lv-shebang")).trim(),
        "shebang honoured by bash",
      );
    });

    await t.step("ansible_local in the guest and ansible from the host, each with its host var", async () => {
      assert.equal(await sshOut("fam-netplan", "cat ansible-local.txt"), "hello-local from fam-netplan\n");
      assert.equal(
        await sshOut("fam-netplan", "cat /etc/lv-ansible-host.txt"),
        "hello-host from fam-netplan\n",
      );
      assert.equal((await sshOut("fam-netplan", "stat -c %U /etc/lv-ansible-host.txt")).trim(), "root");
    });

    await t.step(
      "the cloud image: lv's user with passwordless sudo, the user data's file, lv's host key",
      async () => {
        assert.equal((await sshOut(CLOUD_MIN.name, "sudo -n whoami")).trim(), "root");
        assert.equal(
          (await sshOut("cloud-vm", "cat /etc/lv-cloud-init")).trim(),
          "written by cloud-init from lv's seed",
        );
        assert.equal((await sshOut("cloud-vm", "cat /var/tmp/lv-hostname-at-first-boot")).trim(), "cloud-vm");
        assert.match(await sshOut("cloud-vm", "sudo cloud-init status"), /status: done/);
        const dom = parse((await lv.ok(["get", "domain", "cloud-vm", "-o", "yaml"])).stdout);
        const hostKey = (await sshOut("cloud-vm", "sudo cat /etc/ssh/ssh_host_ed25519_key.pub")).trim().split(
          " ",
        )
          .slice(0, 2);
        assert.equal(
          dom.status.sshHostKey,
          hostKey.join(" "),
          "the host key lv put in the seed is the one pinned",
        );
        assert.match(dom.status.cloudInitSeed.volume, /^cloud-vm-cidata-[0-9a-f]{12}\.iso$/);
      },
    );

    await t.step("delete removes the guests and their seed volumes", async () => {
      await lv.ok(["delete", "-f", CLOUD_EXAMPLE, "--timeout=3m"]);
      await lv.ok(["delete", "-f", file, "--timeout=5m"]);
      assert.deepEqual(await virshNames("domains"), before);
      assert.deepEqual((await virshNames("volumes")).filter((v) => v.includes("cidata")), []);
    });
  } finally {
    await lv.run(["delete", "-f", CLOUD_EXAMPLE, "--ignore-not-found", "--timeout=3m"]);
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=5m"]);
    lv.cleanup();
  }
});
