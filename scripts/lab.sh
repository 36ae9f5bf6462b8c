#!/usr/bin/env bash
# lab.sh: run a command beside a private libvirtd, in a network namespace and a mount namespace of its own.
#
#   scripts/lab.sh [--keep] [--kvm] -- COMMAND [ARGS...]
#
# --kvm leaves /dev/kvm visible to libvirt (on these machines KVM cannot run guests, and libvirt then
# re-probes QEMU's capabilities on every define, ~30 s each; without --kvm, libvirt offers TCG only).
# --keep keeps the state directory for a look afterwards.
#
# Inside, /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and /run/libvirt are private
# copies, so several labs can run at once and nothing they define (networks, pools, domains) reaches the
# machine's own libvirt or its root network namespace. virtlogd and libvirtd are started here and stopped by
# their PIDs when COMMAND ends; domains and networks still running are destroyed first. The command sees
# LV_LAB=<namespace name> and LV_LAB_DIR=<state dir>. Exit status: COMMAND's.
set -euo pipefail
[ -z "${LV_LAB_TRACE:-}" ] || set -x

keep=0
kvm=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --kvm) kvm=1; shift ;;
    --) shift; break ;;
    *) echo "lab.sh: unknown option $1 (usage: lab.sh [--keep] [--kvm] -- COMMAND...)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "lab.sh: no command (usage: lab.sh [--keep] [--kvm] -- COMMAND...)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "lab.sh: needs root (network namespaces, libvirtd)" >&2; exit 1; }
for tool in ip unshare tini libvirtd virtlogd virsh; do
  command -v "$tool" >/dev/null || { echo "lab.sh: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done

if [ "${LV_LAB_INNER:-}" != 1 ]; then
  ns="lvlab-$$"
  state=$(mktemp -d /var/tmp/lv-lab.XXXXXX)
  chmod 0755 "$state"
  cleanup_outer() {
    # Whatever still runs in the lab's network namespace was started by the lab (a daemon a test restarted,
    # a guest's qemu): stop it by PID before the namespace goes.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    if [ "$keep" = 1 ]; then echo "lab.sh: kept $state" >&2; else rm -rf "$state"; fi
  }
  trap cleanup_outer EXIT
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  rc=0
  # tini -s: the lab's reaper. libvirtd daemonizes and QEMU and dnsmasq are forked away from it, so they end
  # up children of the nearest subreaper, else of PID 1; this machine's PID 1 reaps them ~1.2 s after they
  # exit, and libvirt waits for that (virsh destroy of a TCG guest: 1.6 s, of which QEMU's exit 0.05 s).
  # A host's systemd reaps at once; under tini the lab does too.
  LV_LAB_INNER=1 LV_LAB="$ns" LV_LAB_DIR="$state" LV_LAB_KVM="$kvm" \
    ip netns exec "$ns" unshare -m --propagation private tini -s -- "$0" -- "$@" || rc=$?
  exit "$rc"
fi

# ---- inside the namespaces
state="$LV_LAB_DIR"
mkdir -p "$state"/{etc,lib,cache,log,run}
cp -a /etc/libvirt/. "$state/etc/"
# Start from no persistent objects: Debian's default network and anything defined on this machine stay out.
rm -rf "$state/etc/qemu/networks" "$state/etc/storage" "$state/etc/secrets" "$state/etc/nwfilter"
find "$state/etc/qemu" -maxdepth 1 -name '*.xml' -delete 2>/dev/null || true
mkdir -p "$state/etc/qemu/networks/autostart" "$state/etc/storage/autostart"
# Two labs may start domains with the same name and id: keep them out of shared cgroups; no private /dev
# for QEMU either (it would try to bind the hidden /dev/kvm below).
printf '\ncgroup_controllers = [ ]\nnamespaces = [ ]\n' >>"$state/etc/qemu.conf"
# Members of group libvirt may use qemu:///system, as Debian's polkit rule (60-libvirt.rules) allows on a
# real host; the lab has no D-Bus for polkit, so the socket's group and mode say it instead.
printf '\nunix_sock_group = "libvirt"\nunix_sock_rw_perms = "0770"\nauth_unix_rw = "none"\n' \
  >>"$state/etc/libvirtd.conf"
mkdir -p "$state"/lib/{images,qemu,dnsmasq,network,boot,swtpm}
chmod 0755 "$state"/lib "$state"/lib/images
# libvirtd probes QEMU for ~15 s on a cold capabilities cache: share that cache between labs.
capcache=/var/cache/lv-lab/qemu-capabilities
if [ -d "$capcache" ]; then mkdir -p "$state/cache/qemu" && cp -a "$capcache" "$state/cache/qemu/capabilities"; fi
mount --bind "$state/etc" /etc/libvirt
mount --bind "$state/lib" /var/lib/libvirt
mkdir -p /var/cache/libvirt /var/log/libvirt /run/libvirt
mount --bind "$state/cache" /var/cache/libvirt
mount --bind "$state/log" /var/log/libvirt
mount -t tmpfs -o mode=0755 lv-lab-run /run/libvirt
if [ "${LV_LAB_KVM:-0}" != 1 ] && [ -e /dev/kvm ]; then
  # This machine's /dev/kvm cannot run guests, and libvirt re-probes QEMU (~30 s) on every define while
  # KVM looks usable but QEMU's probe finds none. Hide it from QEMU's user: libvirt then offers TCG only.
  : >"$state/no-kvm" && chmod 000 "$state/no-kvm" && mount --bind "$state/no-kvm" /dev/kvm
fi

virtlogd -d -p "$state/virtlogd.pid"
libvirtd -d -p "$state/libvirtd.pid"

stop_daemons() {
  if [ ! -d "$capcache" ] && [ -d "$state/cache/qemu/capabilities" ]; then
    mkdir -p "$(dirname "$capcache")" && cp -a "$state/cache/qemu/capabilities" "$capcache.$$" &&
      mv -T "$capcache.$$" "$capcache" 2>/dev/null || rm -rf "$capcache.$$"
  fi
  if [ -S /run/libvirt/libvirt-sock ]; then
    for dom in $(virsh -q -c qemu:///system list --name 2>/dev/null); do
      virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
    done
    for net in $(virsh -q -c qemu:///system net-list --name 2>/dev/null); do
      virsh -q -c qemu:///system net-destroy "$net" >/dev/null 2>&1 || true
    done
  fi
  for name in libvirtd virtlogd; do
    pidfile="$state/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap stop_daemons EXIT

for _ in $(seq 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -c qemu:///system version >/dev/null || { echo "lab.sh: libvirtd did not come up" >&2; exit 1; }

rc=0
"$@" || rc=$?
exit "$rc"
