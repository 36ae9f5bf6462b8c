/** Network: one libvirt network, defined, started and autostarted, owned by lv. */
import type { DhcpHost, Domain, Network } from "../api/types.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { el, renderXml } from "../libvirt/xml/escape.ts";
import { domainInterfaces } from "./domain_interfaces.ts";
import {
  networkDiff,
  networkStateFromSpec,
  networkXml,
  parseNetworkXml,
} from "../libvirt/xml/network_xml.ts";
import { type ControllerContext, nameConflict, WaitingError } from "./context.ts";
import { kindReconciler } from "./kind_reconciler.ts";
import { blockingReferrers, removeFinalizer, setReady } from "./object_ops.ts";

export const networkReconciler = kindReconciler<Network>({
  kind: "Network",
  async reconcileDelete(net, ctx) {
    await blockingReferrers(ctx, net, "Network");
    const lv = ctx.libvirtFor(net);
    const name = net.metadata.name;
    const existing = await lv.netGet(name);
    if (existing && parseNetworkXml(existing.xml).owner?.uid === net.metadata.uid) {
      await lv.netDestroy(name);
      await lv.netUndefine(name);
      await ctx.event(net, "Normal", "Deleted", `network "${name}" destroyed and undefined`);
    }
    await removeFinalizer(ctx.store, net);
  },
  async reconcileNormal(net, ctx) {
    const lv = ctx.libvirtFor(net);
    const name = net.metadata.name;
    const existing = await lv.netGet(name);
    const parsed = existing ? parseNetworkXml(existing.xml) : undefined;
    if (parsed && parsed.owner?.uid !== net.metadata.uid) throw nameConflict("network", name, parsed.owner);
    let active = existing?.active ?? false;
    // Static IPs of Domains on this network become DHCP reservations for their MACs.
    const wanted: Network = structuredClone(net);
    const reserved = await reservations(ctx, net);
    if (net.spec.dhcp.enabled) wanted.spec.dhcp.hosts = [...net.spec.dhcp.hosts, ...reserved];
    if (!parsed) {
      await lv.netDefine(networkXml(wanted));
      await ctx.event(net, "Normal", "Defined", `network "${name}" defined`);
    } else {
      const diff = networkDiff(networkStateFromSpec(wanted), parsed);
      if (diff.length > 0 && diff.every((d) => d.startsWith("dhcp.hosts["))) {
        // Reservations change live: a restart would cut running guests off the network.
        await updateReservations(lv, { name, have: parsed.dhcp.hosts, want: wanted.spec.dhcp.hosts, active });
        await ctx.event(
          net,
          "Normal",
          "Updated",
          `DHCP reservations of network "${name}" updated: ${diff.join(", ")}`,
        );
      } else if (diff.length > 0) {
        await lv.netDefine(networkXml(wanted, { uuid: parsed.uuid }));
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
    const bridge = parsed?.bridge || await bridgeOf(lv, name);
    await setReady(ctx.store, net, { status: "True", reason: "Active", phase: "Active" }, (status) => {
      status.bridge = bridge;
      status.active = true;
      status.reservations = net.spec.dhcp.enabled ? reserved.map((h) => `${h.mac}=${h.ip}`) : [];
    });
  },
});

/** The bridge libvirt gave a network it just defined; the network must still be there. */
async function bridgeOf(lv: Libvirt, name: string): Promise<string | undefined> {
  const now = await lv.netGet(name);
  if (!now) {
    throw new WaitingError(
      "NetworkVanished",
      `network "${name}" disappeared from ${lv.uri} right after lv defined and started it (removed by someone else?); defining it again`,
      1000,
    );
  }
  return parseNetworkXml(now.xml).bridge;
}

/** Changes a network's DHCP reservations live from `have` to `want` (and in its persistent config). */
async function updateReservations(
  lv: Libvirt,
  change: { name: string; have: DhcpHost[]; want: DhcpHost[]; active: boolean },
): Promise<void> {
  const want = new Map(change.want.map((h) => [h.mac.toLowerCase(), h]));
  const have = new Map(change.have.map((h) => [h.mac.toLowerCase(), h]));
  const same = (a: DhcpHost | undefined, b: DhcpHost) => !!a && a.ip === b.ip && a.name === b.name;
  for (const [mac, host] of have) {
    if (!same(want.get(mac), host)) {
      await lv.netUpdateHost(change.name, "delete", hostXml(host), change.active);
    }
  }
  for (const [mac, host] of want) {
    if (!same(have.get(mac), host)) {
      await lv.netUpdateHost(change.name, "add-last", hostXml(host), change.active);
    }
  }
}

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
      const ip = dom.spec.interfaces[i].ip;
      if (nic.network === net.metadata.name && ip) hosts.push({ mac: nic.mac, ip });
    });
  }
  return hosts.sort((a, b) => a.mac.localeCompare(b.mac));
}
