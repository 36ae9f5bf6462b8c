#!/usr/bin/env bash
# verify_box.sh: boot the test box for real and check what lv relies on. Run it inside a lab:
#
#   scripts/lab.sh -- scripts/box/verify_box.sh [BOX_DIR]      (BOX_DIR default: build_test_box.sh's output)
#
# Defines a NAT network with DHCP (10.77.0.0/24), two TCG domains (1 vCPU, 1 GiB, virtio disk and NIC, serial
# pty, guest agent channel; vm2 also a virtio RNG) on qcow2 overlays of the box image, and checks for each: DHCP lease, SSH as vagrant
# with the box's key, `sudo -n true`, `systemctl is-system-running` running or degraded, mount.nfs present,
# the guest agent answering; then that the two guests' SSH host keys and machine ids differ. One VM at a time. Prints measured
# times. Exit 0 when all pass. (What a type='kvm' domain does here: scripts/box/verify_kvm_state.sh.)
# Not part of the box's hash (build_test_box.sh ignores scripts/box/verify*).
set -euo pipefail
[ -n "${LV_LAB:-}" ] || { echo "verify_box.sh: run me inside scripts/lab.sh" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
dir=${1:-$("$here/../build_test_box.sh" --print-dir)}
[ -s "$dir/debian12.box" ] || { echo "verify_box.sh: no box in $dir (run scripts/build_test_box.sh)" >&2; exit 1; }
key="$dir/vagrant_key"

V() { virsh -q -c qemu:///system "$@"; }
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local us=$(($2 - $1)); printf '%d.%01d' $((us / 1000000)) $((us % 1000000 / 100000)); }
fail=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
sshq() { # sshq IP COMMAND...
  local ip=$1; shift
  ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o ConnectTimeout=5 -o LogLevel=ERROR "vagrant@$ip" "$@"
}

img=/var/lib/libvirt/images
mkdir -p /var/log/libvirt/qemu
tar -xOf "$dir/debian12.box" box.img >"$img/debian12-base.qcow2"
chmod 0644 "$img/debian12-base.qcow2"

V net-define /dev/stdin >/dev/null <<'EOF'
<network>
  <name>lvbox</name>
  <forward mode='nat'/>
  <bridge name='virbr-lvbox' stp='off'/>
  <ip address='10.77.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.77.0.100' end='10.77.0.200'/></dhcp>
  </ip>
</network>
EOF
V net-start lvbox >/dev/null
echo "network lvbox up"

define_vm() { # define_vm NAME MAC [EXTRA_DEVICE_XML]
  qemu-img create -q -f qcow2 -b "$img/debian12-base.qcow2" -F qcow2 "$img/$1.qcow2"
  V define /dev/stdin >/dev/null <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$img/$1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='lvbox'/>
      <mac address='$2'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><log file='/var/log/libvirt/qemu/$1-serial.log' append='off'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>${3:-}
  </devices>
</domain>
EOF
}

wait_lease() { # wait_lease MAC TIMEOUT -> prints IP
  local deadline=$(($(date +%s) + $2)) ip
  while [ "$(date +%s)" -lt "$deadline" ]; do
    ip=$(V net-dhcp-leases lvbox --mac "$1" 2>/dev/null | awk '{print $5}' | cut -d/ -f1 | head -n1)
    if [ -n "$ip" ]; then echo "$ip"; return 0; fi
    sleep 0.5
  done
  return 1
}
wait_ssh() { # wait_ssh IP TIMEOUT
  local deadline=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    sshq "$1" hostname >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

declare -A hostkey machineid
boot_and_check() { # boot_and_check NAME MAC [EXTRA_DEVICE_XML]
  local name=$1 mac=$2 t0 t1 t2 t3 ip state
  define_vm "$name" "$mac" "${3:-}"
  t0=$(now)
  V start "$name" >/dev/null
  t1=$(now)
  echo "$name: virsh start returned after $(secs "$t0" "$t1") s"
  if ! ip=$(wait_lease "$mac" 300); then
    echo "FAIL $name: no DHCP lease in 300 s; serial log tail:"; tail -n 30 "/var/log/libvirt/qemu/$name-serial.log"
    fail=1; return 1
  fi
  t2=$(now)
  echo "$name: DHCP lease $ip after $(secs "$t0" "$t2") s"
  if ! wait_ssh "$ip" 600; then
    echo "FAIL $name: no SSH in 600 s; serial log tail:"; tail -n 30 "/var/log/libvirt/qemu/$name-serial.log"
    fail=1; return 1
  fi
  t3=$(now)
  echo "$name: SSH (hostname: $(sshq "$ip" hostname)) after $(secs "$t0" "$t3") s"
  check "$name: sudo -n true" sshq "$ip" sudo -n true
  state=$(sshq "$ip" timeout 300 systemctl is-system-running --wait 2>/dev/null || true)
  echo "$name: systemctl is-system-running: $state (after $(secs "$t0" "$(now)") s)"
  [ "$state" = degraded ] && sshq "$ip" systemctl --failed --no-legend
  check "$name: system running or degraded" test "$state" = running -o "$state" = degraded
  check "$name: mount.nfs exists" sshq "$ip" test -x /sbin/mount.nfs
  check "$name: console=ttyS0 on the kernel command line" sshq "$ip" grep -qw console=ttyS0,115200n8 /proc/cmdline
  check "$name: serial log has the login prompt" grep -q 'login:' "/var/log/libvirt/qemu/$name-serial.log"
  check "$name: guest agent answers" V qemu-agent-command "$name" '{"execute":"guest-ping"}'
  check "$name: root fs is the 4 GiB disk" sshq "$ip" 'test "$(lsblk -bdno SIZE /dev/vda)" = 4294967296'
  echo "$name: $(sshq "$ip" systemd-analyze | head -n1)"
  echo "$name: crng: $(sshq "$ip" "sudo dmesg | grep -m1 'crng init done'")"
  hostkey[$name]=$(sshq "$ip" cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)
  machineid[$name]=$(sshq "$ip" cat /etc/machine-id)
  # Stop it, so the next VM's times are not shared with this one's CPU.
  V destroy "$name" >/dev/null
}

boot_and_check vm1 52:54:00:77:00:01 || true
# The second VM also gets a virtio RNG: under TCG the guest kernel's CRNG is otherwise slow to initialise, and
# sshd and systemd-resolved wait for it.
boot_and_check vm2 52:54:00:77:00:02 "
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"  || true
check "host keys differ between vm1 and vm2" \
  test -n "${hostkey[vm1]:-}" -a -n "${hostkey[vm2]:-}" -a "${hostkey[vm1]:-}" != "${hostkey[vm2]:-}"
check "machine ids differ between vm1 and vm2 (${machineid[vm1]:-} / ${machineid[vm2]:-})" \
  test -n "${machineid[vm1]:-}" -a -n "${machineid[vm2]:-}" -a "${machineid[vm1]:-}" != "${machineid[vm2]:-}"

[ "$fail" = 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit "$fail"
