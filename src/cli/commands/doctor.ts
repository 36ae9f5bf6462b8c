/** lv doctor: check this host, print the fix for each problem. */
import { defineCommand } from "../command.ts";

export const doctorCommand = defineCommand({
  name: "doctor",
  summary: "check this host and print the fix for each problem",
  usage: ["doctor"],
  description:
    `Checks virsh, qemu-img, libvirtd, KVM, the default pool and the store's permissions, and prints the fix
for each problem. Exit 1 when a check fails.`,
  flags: {},
  async run({ withRuntime }) {
    const { doctor } = await import("../doctor.ts");
    await withRuntime(doctor);
  },
});
