/** Network: one libvirt network, defined, started and autostarted, owned by lv. */
import type { AnyResource, DhcpHost, Domain, Network } from "../api/types.ts";
import { el, renderXml } from "../libvirt/xml/escape.ts";
import { domainInterfaces } from "./domain_interfaces.ts";
import {
  networkDiff,
  networkStateFromSpec,
  networkXml,
  parseNetworkXml,
} from "../libvirt/xml/network_xml.ts";
import { type ControllerContext, nameConflict, type Reconciler } from "./context.ts";
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
      throw nameConflict("network", name, parsed?.owner);
    }
    let active = existing?.active ?? false;
    // Static IPs of Domains on this network become DHCP reservations for their MACs.
    const wanted: Network = structuredClone(net);
    const reserved = await reservations(ctx, net);
    if (net.spec.dhcp.enabled) wanted.spec.dhcp.hosts = [...net.spec.dhcp.hosts, ...reserved];
    if (!existing) {
      await lv.netDefine(networkXml(wanted));
      await ctx.event(net, "Normal", "Defined", `network "${name}" defined`);
    } else {
      const diff = networkDiff(networkStateFromSpec(wanted), parsed!);
      if (diff.length > 0 && diff.every((d) => d.startsWith("dhcp.hosts["))) {
        // Reservations change live: a restart would cut running guests off the network.
        const want = new Map(wanted.spec.dhcp.hosts.map((h) => [h.mac.toLowerCase(), h]));
        const have = new Map(parsed!.dhcp.hosts.map((h) => [h.mac.toLowerCase(), h]));
        for (const [mac, host] of have) {
          const w = want.get(mac);
          if (!w || w.ip !== host.ip || w.name !== host.name) {
            await lv.netUpdateHost(name, "delete", hostXml(host), active);
          }
        }
        for (const [mac, host] of want) {
          const h = have.get(mac);
          if (!h || h.ip !== host.ip || h.name !== host.name) {
            await lv.netUpdateHost(name, "add-last", hostXml(host), active);
          }
        }
        await ctx.event(
          net,
          "Normal",
          "Updated",
          `DHCP reservations of network "${name}" updated: ${diff.join(", ")}`,
        );
      } else if (diff.length > 0) {
        await lv.netDefine(networkXml(wanted, { uuid: parsed!.uuid }));
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
      status.reservations = net.spec.dhcp.enabled ? reserved.map((h) => `${h.mac}=${h.ip}`) : [];
    });
  },
};

function hostXml(host: DhcpHost): string {
  return renderXml(el("host", { mac: host.mac, name: host.name, ip: host.ip }));
}

/** DHCP reservations for the Domains with a static ip on this network (not being deleted). */
async function reservations(ctx: ControllerContext, net: Network): Promise<DhcpHost[]> {
  const hosts: DhcpHost[] = [];
  for (const obj of await ctx.store.list("Domain", { namespace: net.metadata.namespace })) {
    const dom = obj as Domain;
    if (dom.metadata.deletionTimestamp || !dom.metadata.uid) continue;
    domainInterfaces(dom).forEach((nic, i) => {
      // Only interfaces on this Network (spec network), never a libvirtNetwork or the management interface.
      const itf = dom.spec.interfaces[i];
      if (itf?.network === net.metadata.name && itf.ip) hosts.push({ mac: nic.mac, ip: itf.ip });
    });
  }
  return hosts.sort((a, b) => a.mac.localeCompare(b.mac));
}
