/** lv store migrate --to URL: copy every object into another store. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const storeCommand = defineCommand({
  name: "store",
  summary: "copy every object into another store (SQLite <-> etcd), uids and status kept",
  synopsis: ["migrate --to URL"],
  usage: ["store migrate --to URL"],
  description: `Copies every object of the store lv uses (--store, $LV_STORE, the config file's store:, else
the system store or $LV_HOME/store.db: lv doctor says which) into the store at URL:
etcd://HOST:2379[,HOST:2379...], etcds://... or sqlite:PATH.
uids, generations, timestamps, finalizers and statuses are kept; events and leases are not copied.
Nothing is copied when URL holds an object of the same name with another uid; objects already copied
(same uid) are skipped, so an interrupted migrate is finished by running it again. Then point lv at
the new store (LV_STORE, or store: in the config file).`,
  subcommands: [{ name: "migrate", summary: "copy every object into the store at --to" }],
  flags: {
    to: { type: "string", value: "URL", kind: "uri", description: "the store to copy into", of: "migrate" },
  },
  examples: ["lv store migrate --to etcd://10.0.0.11:2379,10.0.0.12:2379,10.0.0.13:2379"],
  async run({ flags, args, withRuntime }) {
    if (!flags.to) throw new UsageError("lv store migrate needs --to URL", "e.g. --to etcd://10.0.0.1:2379");
    const { storeCommand } = await import("../store_cmd.ts");
    await withRuntime((rt) =>
      storeCommand(rt, args[0], { to: flags.to, password: Deno.env.get("LV_STORE_PASSWORD") })
    );
  },
});

export const crdsCommand = defineCommand({
  name: "crds",
  summary: "print the kinds as Kubernetes CustomResourceDefinitions",
  usage: ["crds"],
  description: `Prints Box, Volume, Network and Domain as Kubernetes CustomResourceDefinitions
(apiextensions.k8s.io/v1, group lv.dev, version v1alpha1, namespaced, status subresource), made from the
same field table as 'lv explain' and 'lv schema', with structural schemas.`,
  flags: {},
  examples: ["lv crds | kubectl apply -f -"],
  async run({ output }) {
    const { crds } = await import("../../api/crds.ts");
    const { stringify } = await import("../yaml_stringify.ts");
    output.out(crds().map((c) => stringify(c)).join("---\n"));
  },
});
