#!/usr/bin/env bash
# verify_kvm_state.sh: show what a domain of type 'kvm' does on this machine, for lv to recognise it.
#
#   scripts/lab.sh --kvm -- scripts/box/verify_kvm_state.sh [BOX_DIR]
#
# Starts a tiny diskless type='kvm' domain and one booting the test box (if built), and prints
# `virsh domstate --reason` each time it changes in the 30 s after start, QMP query-status, and QEMU's log
# (register dumps left out).
# /dev/kvm here is root-only (crw------- root:root, no udev rule), so QEMU (user libvirt-qemu) would fail with
# "Permission denied" before KVM is even tried; this lab's mount namespace (not the machine) gets a
# crw-rw---- root:kvm node bound over it, as udev makes on a normal host. libvirt then re-probes QEMU (~30 s).
set -euo pipefail
[ "${LV_LAB_KVM:-0}" = 1 ] || { echo "verify_kvm_state.sh: run me inside scripts/lab.sh --kvm" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
dir=${1:-$("$here/../build_test_box.sh" --print-dir)}
V() { virsh -q -c qemu:///system "$@"; }
img=/var/lib/libvirt/images
mkdir -p /var/log/libvirt/qemu

echo "/dev/kvm: $(stat -c '%A %U:%G' /dev/kvm); cpu flags vmx/svm: $(grep -c -w -E 'vmx|svm' /proc/cpuinfo || true)"
qemu_user=$(awk -F'"' '/^[[:space:]]*user[[:space:]]*=/ {print $2}' /etc/libvirt/qemu.conf)
qemu_user=${qemu_user:-libvirt-qemu}
if ! setpriv --reuid="$qemu_user" --regid=kvm --init-groups test -r /dev/kvm -a -w /dev/kvm; then
  echo "binding a crw-rw---- root:kvm /dev/kvm over it in this lab's mount namespace"
  mknod -m 0660 /run/libvirt/kvm-node c "$((0x$(stat -c %t /dev/kvm)))" "$((0x$(stat -c %T /dev/kvm)))"
  chgrp kvm /run/libvirt/kvm-node
  mount --bind /run/libvirt/kvm-node /dev/kvm
fi

kvm_try() { # kvm_try NAME DISK_XML
  local t0 s
  t0=$(date +%s)
  if ! V define /dev/stdin >/dev/null 2>"/tmp/$1.err" <<EOF; then
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>$2
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
EOF
    echo "$1: virsh define failed: $(cat "/tmp/$1.err")"
    return 0
  fi
  echo "$1: defined in $(($(date +%s) - t0)) s"
  if ! V start "$1" >/dev/null 2>"/tmp/$1.err"; then
    echo "$1: virsh start failed: $(cat "/tmp/$1.err")"
    return 0
  fi
  t0=$(date +%s)
  local last="" now
  for s in $(seq 1 30); do
    sleep $((t0 + s - $(date +%s)))
    now=$(V domstate --reason "$1")
    if [ "$now" != "$last" ] || [ "$s" = 30 ]; then echo "$1: ${s}s after start, virsh domstate --reason: $now"; fi
    last=$now
  done
  echo "$1: QMP query-status: $(V qemu-monitor-command "$1" '{"execute":"query-status"}')"
  echo "$1: virsh domstate (no --reason): $(V domstate "$1")"
  echo "$1: virsh dominfo State: $(V dominfo "$1" | awk -F': *' '$1=="State" {print $2}')"
  echo "$1: virsh list --all: $(V list --all | awk -v n="$1" '$2==n')"
  echo "$1: QEMU log:"
  grep -v -E '^(LC_ALL|PATH|HOME|XDG|USER|LOGNAME|QEMU_AUDIO)|^/usr/bin/qemu|^-' "/var/log/libvirt/qemu/$1.log" |
    grep -v -E '^(extra data|[A-Z]{2,3} *=|[A-Z]{2,3}=|E[A-Z]{2}=|ES |CS |SS |DS |FS |GS |LDT|TR |GDT|IDT|CR0|DR[06]|EFER|Code=)' |
    sed 's/^/    /' | tail -n 12
  V destroy "$1" >/dev/null 2>&1 || true
}

kvm_try kvmtiny ""
if [ -s "$dir/debian12.box" ]; then
  tar -xOf "$dir/debian12.box" box.img >"$img/kvmbox-base.qcow2"
  qemu-img create -q -f qcow2 -b "$img/kvmbox-base.qcow2" -F qcow2 "$img/kvmbox.qcow2"
  kvm_try kvmbox "
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$img/kvmbox.qcow2'/><target dev='vda' bus='virtio'/></disk>"
fi
