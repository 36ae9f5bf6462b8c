/**
 * The unit harness for CLI tests: the same fake libvirt and store, reached through the CLI's Runtime
 * (openRuntime, as `lv` builds it), which the commands under test take.
 *
 * @module
 */
import { openRuntime, type Runtime } from "../../src/cli/runtime.ts";
import { type Harness, type HarnessOptions, newHarness } from "./harness.ts";

export interface CliHarness extends Harness {
  rt: Runtime;
}

export async function newCliHarness(options: HarnessOptions = {}): Promise<CliHarness> {
  let rt: Runtime | undefined;
  const h = await newHarness(options, async (home, fake) =>
    rt = await openRuntime({
      home,
      configPath: `${home}/config.yaml`,
      virsh: fake,
      output: { out: () => {}, err: () => {} },
    }));
  if (!rt) throw new Error("newHarness did not open the runtime");
  return { ...h, rt };
}
