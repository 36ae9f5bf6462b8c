/** The manifests and hand-written libvirt XML the benchmarks apply. */

const API = "apiVersion: lv.dev/v1alpha1";

export function boxDoc(name: string, source: string): string {
  return `${API}\nkind: Box\nmetadata:\n  name: ${name}\nspec:\n  source: ${source}\n`;
}

export function natNetworkDoc(name: string, address: string): string {
  return `${API}\nkind: Network\nmetadata:\n  name: ${name}\nspec:\n  mode: nat\n  ipv4:\n    address: ${address}\n    prefix: 24\n  dhcp:\n    enabled: true\n`;
}

/** examples/machine.yaml's Domain without the provisioner and the synced folder. */
export function vmDoc(name: string, box: string, network: string): string {
  return `${API}\nkind: Domain\nmetadata:\n  name: ${name}\nspec:\n  box: ${box}\n  driver: qemu\n  memory: 512\n  cpus: 1\n  interfaces:\n    - network: ${network}\n`;
}

/** A Domain without disk, interface or guest OS. */
export function disklessDoc(name: string, state: "Running" | "Stopped", memory = 64): string {
  return `${API}\nkind: Domain\nmetadata:\n  name: ${name}\n  labels:\n    bench: "yes"\nspec:\n  driver: qemu\n  communicator: none\n  state: ${state}\n  memory: ${memory}\n  cpus: 1\n`;
}

export function join(docs: string[]): string {
  return docs.join("---\n");
}

/** A NAT network as one would define it by hand (same shape as lv's: NAT, STP on, DHCP on the whole /24). */
export function floorNetworkXml(name: string, prefix3: string): string {
  return `<network>
  <name>${name}</name>
  <forward mode='nat'/>
  <bridge stp='on' delay='0'/>
  <ip address='${prefix3}.1' prefix='24'>
    <dhcp><range start='${prefix3}.2' end='${prefix3}.254'/></dhcp>
  </ip>
</network>
`;
}

/** The domain lv defines for vmDoc (type qemu, qemu64 CPU, virtio disk and NIC, serial console, agent channel). */
export function floorDomainXml(o: { name: string; disk: string; network: string; mac: string }): string {
  return `<domain type='qemu'>
  <name>${o.name}</name>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${o.disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='${o.mac}'/>
      <source network='${o.network}'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices>
</domain>
`;
}

/** The domain lv defines for disklessDoc (no disk, no NIC; BIOS only). */
export function disklessDomainXml(name: string, memory = 64): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${memory}</memory>
  <currentMemory unit='MiB'>${memory}</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices>
</domain>
`;
}
