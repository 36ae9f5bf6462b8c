/** spec.forwardedPorts: defaults, validation across one file (with file:line), lv get -o wide, port specs. */
import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain } from "../../src/api/types.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { parsePortSpecs } from "../../src/cli/port_forward.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { printTable } from "../../src/cli/printers.ts";

function domain(name: string, ports: string): string {
  return `apiVersion: lv.dev/v1alpha1\nkind: Domain\nmetadata:\n  name: ${name}\nspec:\n  forwardedPorts:\n${ports}`;
}

Deno.test("forwardedPorts: hostIp defaults to 127.0.0.1 and protocol to tcp", () => {
  const { resources, problems } = parseManifests(domain("web", "    - {guest: 22, host: 2222}\n"), "m.yaml");
  assert.deepEqual(problems, []);
  assert.deepEqual((resources[0] as Domain).spec.forwardedPorts, [
    { guest: 22, host: 2222, hostIp: "127.0.0.1", protocol: "tcp" },
  ]);
});

Deno.test("forwardedPorts: refused with file:line and field path", async (t) => {
  const cases: { name: string; text: string; floor?: number; expect: string[] }[] = [
    {
      name: "a host port below 1024 when lv does not run as root",
      text: domain("web", "    - {guest: 80, host: 80}\n"),
      floor: 1024,
      expect: [
        "m.yaml:7:25: spec.forwardedPorts[0].host: is below 1024: only root may listen on it, and lv does not run as root; got 80 (forward a port from 1024 up, e.g. host: 8080)",
      ],
    },
    {
      name: "the same host port twice in one domain",
      text: domain("web", "    - {guest: 80, host: 8080}\n    - {guest: 81, host: 8080}\n"),
      expect: [
        'm.yaml:8:25: spec.forwardedPorts[1].host: host port 127.0.0.1:8080 is forwarded twice; got 8080 (also by domain "web" at m.yaml:7)',
      ],
    },
    {
      name: "the same host port in two domains of the file",
      text: `${domain("web", "    - {guest: 80, host: 8080}\n")}---\n${
        domain("db", "    - {guest: 5432, host: 8080, hostIp: 0.0.0.0}\n")
      }`,
      expect: [
        'm.yaml:15:27: spec.forwardedPorts[0].host: host port 0.0.0.0:8080 is forwarded twice; got 8080 (also by domain "web" at m.yaml:7)',
      ],
    },
    {
      name: "a port out of range",
      text: domain("web", "    - {guest: 0, host: 70000}\n"),
      expect: [
        "m.yaml:7:15: spec.forwardedPorts[0].guest: must be between 1 and 65535; got 0",
        "m.yaml:7:24: spec.forwardedPorts[0].host: must be between 1 and 65535; got 70000",
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const { problems } = parseManifests(c.text, "m.yaml", { unprivilegedPortStart: c.floor ?? 0 });
      assert.deepEqual(problems.map(formatProblem), c.expect);
    });
  }
});

Deno.test("forwardedPorts: the same port on two addresses, or as root below 1024, is fine", () => {
  const text = domain("web", "    - {guest: 80, host: 80}\n    - {guest: 81, host: 80, hostIp: 127.0.0.2}\n");
  assert.deepEqual(parseManifests(text, "m.yaml", { unprivilegedPortStart: 0 }).problems, []);
});

Deno.test("parsePortSpecs() reads HOST:GUEST and GUEST, and refuses the rest", () => {
  assert.deepEqual(parsePortSpecs(["8080:80", "5432"], "0.0.0.0"), [
    { host: 8080, guest: 80, hostIp: "0.0.0.0", protocol: "tcp" },
    { host: 5432, guest: 5432, hostIp: "0.0.0.0", protocol: "tcp" },
  ]);
  for (const bad of [["a:80"], ["1:2:3"], ["0"], ["8080:80", "8080:81"], ["99999"]]) {
    assert.throws(() => parsePortSpecs(bad, "127.0.0.1"), UsageError, bad.join(" "));
  }
  assert.throws(() => parsePortSpecs(["80"], "localhost"), /not an IPv4 address/);
});

Deno.test("lv get domains -o wide shows the forwarded ports", () => {
  const text = domain(
    "web",
    "    - {guest: 22, host: 2222}\n    - {guest: 80, host: 8080, hostIp: 0.0.0.0}\n",
  );
  const dom = parseManifests(text, "m.yaml").resources[0];
  const [header, row] = printTable("Domain", [dom], true).split("\n");
  const at = header.indexOf("PORTS");
  assert.ok(at > 0, header);
  assert.equal(row.slice(at).split(/\s+/)[0], "127.0.0.1:2222->22/tcp,0.0.0.0:8080->80/tcp");
  assert.ok(!printTable("Domain", [dom], false).includes("PORTS"), "not in the plain table");
});
