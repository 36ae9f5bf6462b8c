import assert from "node:assert/strict";
import { domainLogs } from "../../src/cli/logs.ts";
import { consoleArgs } from "../../src/cli/console.ts";
import type { Runtime } from "../../src/cli/runtime.ts";
import { domainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { volumeXml } from "../../src/libvirt/xml/volume_xml.ts";
import { newCliHarness as newHarness } from "./cli_harness.ts";
import { domainResource } from "./xml_fixtures.ts";

async function withDomain(
  fn: (rt: Runtime, file: string, out: string[]) => Promise<void>,
  options: { serialLog?: boolean } = {},
): Promise<void> {
  const h = await newHarness();
  try {
    const file = `${h.home}/web-serial0.log`;
    const dom = domainResource("web", { communicator: "none" });
    await h.store.create(dom);
    await h.libvirt.domDefine(domainXml(dom, {
      driver: "qemu",
      disks: [],
      interfaces: [],
      serialLog: options.serialLog === false ? undefined : file,
    }));
    const out: string[] = [];
    const rt: Runtime = { ...h.rt, output: { out: (s) => out.push(s), err: (s) => out.push(`err: ${s}`) } };
    await fn(rt, file, out);
  } finally {
    await h.close();
  }
}

Deno.test("domainLogs() prints the serial log file named in the domain's definition", async () => {
  await withDomain(async (rt, file, out) => {
    await Deno.writeTextFile(file, "SeaBIOS (version 1.16.2)\nBooting from Hard Disk...\n");
    await domainLogs(rt, "web", { namespace: "default" });
    assert.equal(out.join(""), "SeaBIOS (version 1.16.2)\nBooting from Hard Disk...\n");
  });
});

Deno.test("domainLogs() says so when the domain has printed nothing yet", async () => {
  await withDomain(async (rt, _file, out) => {
    await domainLogs(rt, "web", { namespace: "default" });
    assert.match(out.join(""), /^err: domain\/web has printed nothing yet/);
  });
});

Deno.test("domainLogs() with follow prints what is appended until stopped", async () => {
  await withDomain(async (rt, file, out) => {
    await Deno.writeTextFile(file, "first\n");
    const stop = new AbortController();
    const rtStop: Runtime = {
      ...rt,
      output: {
        ...rt.output,
        out: (s) => {
          rt.output.out(s);
          if (out.join("").includes("second\n")) stop.abort();
          else if (out.join("") === "first\n") Deno.writeTextFileSync(file, "second\n", { append: true });
        },
      },
    };
    await domainLogs(rtStop, "web", { namespace: "default", follow: true, pollMs: 10, signal: stop.signal });
    assert.equal(out.join(""), "first\nsecond\n");
  });
});

Deno.test("domainLogs() fails clearly for a domain without a serial log or not in the store", async () => {
  await withDomain(async (rt) => {
    await assert.rejects(() => domainLogs(rt, "web", { namespace: "default" }), /has no serial log/);
    await assert.rejects(() => domainLogs(rt, "nope", { namespace: "default" }), /domain\/nope not found/);
  }, { serialLog: false });
});

Deno.test("domainLogs() on a remote host reads the log volume through libvirt, and follows what is appended", async () => {
  const h = await newHarness({ defaultPool: true, fake: { uri: "qemu+ssh://root@hv.example/system" } });
  try {
    const dom = domainResource("web", { communicator: "none" });
    await h.store.create(dom);
    await h.libvirt.volCreate(
      "default",
      volumeXml({ name: "web-serial0.log", capacityBytes: 0, format: "raw" }),
    );
    await h.libvirt.domDefine(domainXml(dom, {
      driver: "qemu",
      disks: [],
      interfaces: [],
      serialLog: "/var/lib/libvirt/images/web-serial0.log",
    }));
    const out: string[] = [];
    const output = { out: (s: string) => out.push(s), err: (s: string) => out.push(`err: ${s}`) };
    await domainLogs({ ...h.rt, output }, "web", { namespace: "default" });
    assert.match(
      out.join(""),
      /^err: domain\/web has printed nothing yet \(volume web-serial0\.log of pool default on qemu\+ssh:/,
    );

    out.length = 0;
    h.fake.appendToVolume("default", "web-serial0.log", "SeaBIOS (version 1.16.2)\n");
    const stop = new AbortController();
    const follow = {
      ...output,
      out: (s: string) => {
        out.push(s);
        if (out.join("").includes("Booting")) stop.abort();
        else h.fake.appendToVolume("default", "web-serial0.log", "Booting from Hard Disk...\n");
      },
    };
    await domainLogs({ ...h.rt, output: follow }, "web", {
      namespace: "default",
      follow: true,
      pollMs: 10,
      signal: stop.signal,
    });
    assert.equal(out.join(""), "SeaBIOS (version 1.16.2)\nBooting from Hard Disk...\n");
    const ranges = h.fake.log.filter((c) => c[0] === "vol-download").map((c) => c.slice(3, -2).join(" "));
    assert.deepEqual(ranges, ["--length 25", "--offset 25 --length 26"], "only what is new is downloaded");
  } finally {
    await h.close();
  }
});

Deno.test("domainLogs() on a remote host without a log volume (a pool that is not a directory) says why", async () => {
  const h = await newHarness({ defaultPool: true, fake: { uri: "qemu+ssh://root@hv.example/system" } });
  try {
    const dom = domainResource("web", { communicator: "none" });
    await h.store.create(dom);
    await h.libvirt.domDefine(domainXml(dom, { driver: "qemu", disks: [], interfaces: [] }));
    await assert.rejects(
      () => domainLogs(h.rt, "web", { namespace: "default" }),
      /domain\/web has no serial log: on qemu\+ssh:\/\/root@hv\.example\/system lv keeps it in a directory pool/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("consoleArgs() runs virsh console on the domain's connection", () => {
  assert.deepEqual(consoleArgs("qemu:///system", "web"), ["-c", "qemu:///system", "console", "web"]);
  assert.deepEqual(consoleArgs("qemu:///system", "web", { force: true }).at(-1), "--force");
});
