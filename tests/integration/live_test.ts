/**
 * Live changes on the lab's libvirtd, with a diskless domain (communicator: none) on a Network: memory
 * within maxMemory through the balloon, a vCPU hot-plugged within maxVcpus, an interface's link state, all
 * without a restart; memory beyond the maximum waits for the next boot (RestartRequired), and
 * `lv apply --restart` of the unchanged file then restarts it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Lv, requireLab, virsh } from "./helpers.ts";

const NAME = "lt-web";
const MAC = "52:54:00:4c:00:01";

interface Spec {
  memory: number;
  maxMemory: number;
  cpus: number;
  linkState: "up" | "down";
}

function manifest(s: Spec): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: lt-net}
spec:
  ipv4: {address: 10.231.0.1}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: ${NAME}}
spec:
  communicator: none
  driver: qemu
  memory: ${s.memory}
  maxMemory: ${s.maxMemory}
  cpus: ${s.cpus}
  maxVcpus: 2
  gracefulHaltTimeout: 1
  interfaces:
    - {network: lt-net, mac: "${MAC}", linkState: ${s.linkState}}
`;
}

interface Condition {
  type: string;
  status: string;
  message: string;
}

async function restartRequired(lv: Lv): Promise<Condition | undefined> {
  const obj = JSON.parse((await lv.ok(["get", "domain", NAME, "-o", "json"])).stdout);
  return (obj.status.conditions as Condition[]).find((c) =>
    c.type === "RestartRequired" && c.status === "True"
  );
}

/** A number virsh dominfo prints, e.g. "Max memory" (KiB) or "CPU(s)". */
async function dominfo(field: string): Promise<number> {
  const m = new RegExp(`^${field.replace(/[()]/g, "\\$&")}:\\s+(\\d+)`, "m").exec(
    await virsh("dominfo", NAME),
  );
  assert.ok(m, `dominfo shows ${field}`);
  return Number(m[1]);
}

const domid = async () => (await virsh("domid", NAME)).trim();
const inactive = async (re: RegExp) => re.exec(await virsh("dumpxml", "--inactive", NAME))?.[1];

Deno.test("a running domain takes memory within maxMemory, vCPUs within maxVcpus and link state live", async (t) => {
  requireLab();
  const lv = new Lv();
  const file = join(lv.home, "live.yaml");
  let spec: Spec = { memory: 128, maxMemory: 256, cpus: 1, linkState: "up" };
  const apply = async (change: Partial<Spec>, ...flags: string[]) => {
    spec = { ...spec, ...change };
    Deno.writeTextFileSync(file, manifest(spec));
    lv.virshCalls(); // reset the log
    return await lv.ok(["apply", "-f", file, "--timeout=120s", ...flags]);
  };
  try {
    await apply({});
    assert.equal((await virsh("domstate", NAME)).trim(), "running");
    assert.equal(await dominfo("Max memory"), 256 * 1024);
    const id = await domid();

    await t.step("memory within maxMemory: set through the balloon, no restart", async () => {
      Deno.writeTextFileSync(file, manifest({ ...spec, memory: 192 }));
      const diff = await lv.run(["diff", "-f", file]);
      assert.equal(diff.code, 1, diff.stderr);
      assert.match(diff.stdout, /spec\.memory: applied live within spec\.maxMemory/);
      await apply({ memory: 192 });
      assert.ok(
        lv.virshCalls().some((c) => c.join(" ") === `setmem ${NAME} 192M --live --config`),
        "lv set the balloon target live",
      );
      assert.equal(await restartRequired(lv), undefined);
      assert.equal(await domid(), id, "not restarted");
      assert.equal(
        await inactive(/<currentMemory unit='KiB'>(\d+)</),
        String(192 * 1024),
        "and in the definition",
      );
      assert.match((await lv.ok(["describe", "domain", NAME])).stdout, /LiveUpdated.*memory 192 MiB/);
    });

    await t.step("a vCPU within maxVcpus is hot-plugged", async () => {
      await apply({ cpus: 2 });
      assert.equal(await restartRequired(lv), undefined);
      assert.equal(await domid(), id, "not restarted");
      assert.equal((await virsh("vcpucount", NAME, "--live", "--active")).trim(), "2");
      assert.equal(await dominfo("CPU(s)"), 2);
    });

    await t.step("link state down, then up, live and in the definition", async () => {
      await apply({ linkState: "down" });
      assert.match(await virsh("domif-getlink", NAME, MAC), new RegExp(`${MAC} down`));
      assert.match(await virsh("domif-getlink", NAME, MAC, "--config"), new RegExp(`${MAC} down`));
      await apply({ linkState: "up" });
      assert.match(await virsh("domif-getlink", NAME, MAC), new RegExp(`${MAC} up`));
      assert.equal(await restartRequired(lv), undefined);
      assert.equal(await domid(), id, "not restarted");
    });

    await t.step(
      "memory beyond the running maximum: RestartRequired; apply --restart of the same file",
      async () => {
        await apply({ memory: 384, maxMemory: 512 });
        const condition = await restartRequired(lv);
        assert.match(condition?.message ?? "", /^spec\.maxMemory, spec\.memory take effect at the next boot/);
        assert.equal(await dominfo("Max memory"), 256 * 1024, "the running domain keeps its maximum");
        assert.equal(await domid(), id);
        const r = await apply({}, "--restart");
        assert.equal(r.stdout, `network/lt-net unchanged\ndomain/${NAME} configured\n`);
        assert.equal(await dominfo("Max memory"), 512 * 1024);
        assert.notEqual(await domid(), id, "restarted");
        assert.equal(await restartRequired(lv), undefined);
      },
    );
  } finally {
    await lv.run(["delete", "-f", file, "--timeout=120s"]);
    lv.cleanup();
  }
});
