/** Network: one libvirt network, defined, started and autostarted, owned by lv. */
import type { AnyResource, Network } from "../api/types.ts";
import {
  networkDiff,
  networkStateFromSpec,
  networkXml,
  parseNetworkXml,
} from "../libvirt/xml/network_xml.ts";
import { type ControllerContext, type Reconciler, TerminalError } from "./context.ts";
import { blockingReferrers, ensureFinalizer, removeFinalizer, setReady } from "./object_ops.ts";

export const networkReconciler: Reconciler = {
  kind: "Network",
  async reconcile(obj: AnyResource, ctx: ControllerContext) {
    const net = obj as Network;
    const lv = ctx.libvirtFor(net);
    const name = net.metadata.name;
    const existing = await lv.netGet(name);
    const parsed = existing ? parseNetworkXml(existing.xml) : undefined;
    const ours = parsed?.owner?.uid === net.metadata.uid;

    if (net.metadata.deletionTimestamp) {
      await blockingReferrers(ctx, net, "Network");
      if (existing && ours) {
        await lv.netDestroy(name);
        await lv.netUndefine(name);
        await ctx.event(net, "Normal", "Deleted", `network "${name}" destroyed and undefined`);
      }
      await removeFinalizer(ctx.store, net);
      return;
    }
    await ensureFinalizer(ctx.store, net);

    if (existing && !ours) {
      throw new TerminalError(
        "NameConflict",
        `libvirt already has a network "${name}" that lv did not create${
          parsed?.owner
            ? ` (it belongs to ${parsed.owner.kind.toLowerCase()}/${parsed.owner.name} uid ${parsed.owner.uid})`
            : ""
        }; lv will not modify or delete it. Rename this Network or remove that network by hand.`,
      );
    }
    let active = existing?.active ?? false;
    if (!existing) {
      await lv.netDefine(networkXml(net));
      await ctx.event(net, "Normal", "Defined", `network "${name}" defined`);
    } else {
      const diff = networkDiff(networkStateFromSpec(net), parsed!);
      if (diff.length > 0) {
        await lv.netDefine(networkXml(net, { uuid: parsed!.uuid }));
        if (active) {
          // A running network keeps its old configuration until restarted.
          await lv.netDestroy(name);
          active = false;
        }
        await ctx.event(net, "Normal", "Updated", `network "${name}" redefined: ${diff.join(", ")} changed`);
      }
    }
    if (!active) {
      await lv.netStart(name);
      await ctx.event(net, "Normal", "Started", `network "${name}" started`);
    }
    if (net.spec.autostart !== (existing?.autostart ?? false)) {
      await lv.netAutostart(name, net.spec.autostart);
    }

    const bridge = existing && parsed?.bridge
      ? parsed.bridge
      : parseNetworkXml((await lv.netGet(name))!.xml).bridge;
    await setReady(ctx.store, net, { status: "True", reason: "Active", phase: "Active" }, (status) => {
      status.bridge = bridge;
      status.active = true;
    });
  },
};
