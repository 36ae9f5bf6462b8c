/**
 * The docker and podman provisioners (Vagrant's `docker` and `podman`): images pulled, then each container
 * run as root, a container of the same name replaced (so a second run leaves one, with the spec's options).
 * Commands run one after another; the first that fails is the provisioner's result.
 */
import type { ContainerRun, DockerProvisioner, PodmanProvisioner } from "../../api/types.ts";
import type { RunResult } from "../session.ts";
import { requireTool } from "./guest_tool.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The `docker run` (or podman's) of one container. */
export function containerRunArgv(program: string, c: ContainerRun): string[] {
  return [
    program,
    "run",
    "--name",
    c.name,
    ...(c.daemonize ? ["-d"] : []),
    `--restart=${c.restart}`,
    ...c.args,
    c.image ?? c.name,
    ...c.cmd,
  ];
}

/** The guest commands a provisioner runs, in order; `check` false: its exit code does not matter. */
export function containerCommands(
  program: string,
  p: DockerProvisioner | PodmanProvisioner,
): { argv: string[]; check: boolean }[] {
  return [
    ...p.images.map((image) => ({ argv: [program, "pull", image], check: true })),
    ...p.containers.flatMap((c) => [
      { argv: [program, "rm", "-f", c.name], check: false },
      { argv: containerRunArgv(program, c), check: true },
    ]),
  ];
}

function containerType<P extends DockerProvisioner | PodmanProvisioner>(program: string): ProvisionerType<P> {
  return {
    summary: (p) =>
      `${program}: ${[...p.images, ...p.containers.map((c) => c.name)].join(", ") || "nothing to run"}`,

    async run(ctx, p, label) {
      await requireTool(ctx, label, { tool: { program }, sudo: true });
      const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
      const stream = (chunk: string) => ctx.progress(chunk, prefix);
      const all: RunResult = { code: 0, stdout: "", stderr: "" };
      for (const { argv, check } of containerCommands(program, p)) {
        const r = await ctx.session.run(argv, {
          sudo: true,
          onStdout: stream,
          onStderr: check ? stream : undefined,
        });
        if (!check) continue;
        all.stdout += r.stdout;
        all.stderr += r.stderr;
        if (r.code !== 0) return { ...all, code: r.code };
      }
      return all;
    },
  };
}

export const dockerProvisioner: ProvisionerType<DockerProvisioner> = containerType("docker");
export const podmanProvisioner: ProvisionerType<PodmanProvisioner> = containerType("podman");
