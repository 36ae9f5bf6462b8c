#!/usr/bin/env bash
# build_test_box.sh: build a small Debian 12 Vagrant box for the libvirt provider, offline from Debian packages.
#
#   scripts/build_test_box.sh [--variant V]              build if needed; the last stdout line is the output directory
#   scripts/build_test_box.sh [--variant V] --print-dir  only print the output directory (build nothing); the box
#                                                        is ready when DIR/debian12.box (cloud: DIR/debian12-cloud.qcow2) exists
#   scripts/build_test_box.sh --all                      build every variant; one output directory per line
#
# Variants (V), each a guest OS family lv configures differently; all but the first start from the first's cached
# root file system plus a few packages (also cached), so each costs little after the first build:
#   networkd        (default) systemd-networkd does DHCP; in ${LV_TEST_BOX_CACHE}/<hash>/
#   ifupdown        ifupdown + isc-dhcp-client, /etc/network/interfaces (DHCP on eth0, sources interfaces.d),
#                   systemd-networkd masked; net.ifnames=0 as Debian's own vagrant boxes
#   networkmanager  NetworkManager (its automatic DHCP profiles), systemd-networkd masked
#   netplan         netplan.io rendering to systemd-networkd (/etc/netplan/01-lv-test-box.yaml: DHCP on eth0)
#                   and ansible-core (netplan already needs python3): ansible_local and ansible's modules run;
#                   puppet (its agent service masked: only `puppet apply` runs); Debian's generic kernel
#                   (linux-image-amd64, which has 9p, unlike the cloud kernel) in place of the cloud kernel, its
#                   initrd with only the modules that find the root disk and its module tree without the drivers
#                   a VM never has (GPU, media, wireless, sound...)
#   cloud           a cloud image: cloud-init (NoCloud datasource), no user, no key; debian12-cloud.qcow2 only
# A variant other than networkd goes to ${LV_TEST_BOX_CACHE}/<hash>-<variant>/ (current-<variant> points at it).
#
# Output: ${LV_TEST_BOX_CACHE:-/var/cache/lv-test-box}/<hash>/ with
#   debian12.box       a real Vagrant box (tar: metadata.json, Vagrantfile, box.img (qcow2, 4 GiB virtual),
#                      vagrant_key); `tar -xOf debian12.box box.img` gives the image alone
#   vagrant_key        the ed25519 private key (0600) whose public half is vagrant's authorized key
#   vagrant_key.pub
# ${LV_TEST_BOX_CACHE}/current points at the newest box built or found (examples/*.yaml use that path).
# <hash> is the sha256 of this script and of every file under scripts/box/ except scripts/box/verify*
# (test harnesses), so changing how the box is built gives a new directory and an unchanged script reuses it.
# A directory that exists is complete: builds happen in a temporary directory renamed into place, one at a time
# (a lock in the cache); scratch space is a tmpfs in a private mount namespace, so nothing outlives a build.
#
# The guest: bookworm minbase with systemd, openssh-server, sudo, nfs-common, qemu-guest-agent, rsync and the
# cloud kernel; systemd-networkd does DHCP (client id = MAC) on en*/eth*, systemd-resolved takes DNS from it;
# empty /etc/machine-id (systemd fills it from the VM's UUID) and SSH host keys (Ed25519 and ECDSA only: RSA
# took 40 s under TCG) made at first boot, before ssh.service, so every VM from the box has its own identity;
# user vagrant (password "vagrant", passwordless sudo, key above); console on ttyS0; extlinux on one ext4
# partition. The debootstrapped root file system is cached as a tarball keyed by suite and package list
# (rootfs/ under the cache), so only the first build downloads and unpacks packages.
#
# Environment: LV_TEST_BOX_CACHE (cache root), LV_TEST_BOX_MIRROR (Debian mirror; default: the first bookworm
# mirror in /etc/apt/sources.list*), LV_TEST_BOX_TMPFS_SIZE (scratch tmpfs size, default 4g).
# Needs root (debootstrap, a loop device, mount), and the mirror for the first build (so not inside a lab's
# network namespace until the root file system is cached). Installs its own apt prerequisites when missing.
# Progress goes to stderr.
set -euo pipefail
# The whole script is one compound command, read before it runs: editing or checking out this file while a
# build runs cannot change what that build does.
{
args=("$@")
print_dir_only=0
box_variant=networkd
all_variants=(networkd ifupdown networkmanager netplan cloud)
usage="usage: build_test_box.sh [--variant networkd|ifupdown|networkmanager|netplan|cloud] [--print-dir] | --all"
while [ $# -gt 0 ]; do
  case "$1" in
    --print-dir) print_dir_only=1; shift ;;
    --variant) box_variant=${2:-}; shift 2 || { echo "build_test_box.sh: --variant needs a value ($usage)" >&2; exit 2; } ;;
    --all)
      for v in "${all_variants[@]}"; do "$0" --variant "$v" | tail -n 1 || exit 1; done
      exit 0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_test_box.sh: unknown argument '$1' ($usage)" >&2; exit 2 ;;
  esac
done
case " ${all_variants[*]} " in
  *" $box_variant "*) ;;
  *) echo "build_test_box.sh: unknown variant '$box_variant' ($usage)" >&2; exit 2 ;;
esac

self=$(readlink -f "$0")
here=$(dirname "$self")
cache=${LV_TEST_BOX_CACHE:-/var/cache/lv-test-box}
cache=$(realpath -m "$cache")

suite=bookworm
variant=minbase
packages=(
  systemd-sysv udev kmod dbus openssh-server sudo iproute2 procps rsync
  linux-image-cloud-amd64 initramfs-tools systemd-resolved nfs-common qemu-guest-agent
)

box_hash() {
  {
    sha256sum <"$self"
    if [ -d "$here/box" ]; then
      (cd "$here/box" && find . -type f ! -name 'verify*' -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
    fi
  } | sha256sum | cut -c1-16
}
# Packages each variant adds to the root file system above, and its kernel command line additions.
extra_packages=()
extra_append=""
case "$box_variant" in
  ifupdown) extra_packages=(ifupdown isc-dhcp-client); extra_append=" net.ifnames=0" ;;
  networkmanager) extra_packages=(network-manager) ;;
  netplan) extra_packages=(netplan.io ansible-core puppet linux-image-amd64); extra_append=" net.ifnames=0" ;;
  cloud) extra_packages=(cloud-init) ;;
esac

hash=$(box_hash)
if [ "$box_variant" = networkd ]; then
  out="$cache/$hash"
  current="$cache/current"
else
  out="$cache/$hash-$box_variant"
  current="$cache/current-$box_variant"
fi

box_complete() {
  if [ "$box_variant" = cloud ]; then
    [ -s "$1/debian12-cloud.qcow2" ]
  else
    [ -s "$1/debian12.box" ] && [ -s "$1/vagrant_key" ] && [ -s "$1/vagrant_key.pub" ]
  fi
}

if [ "$print_dir_only" = 1 ]; then
  echo "$out"
  exit 0
fi

t_start=${EPOCHREALTIME/./}
log() {
  local ms=$(((${EPOCHREALTIME/./} - t_start) / 1000))
  printf '[build_test_box %4d.%ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*" >&2
}
die() { echo "build_test_box.sh: $*" >&2; exit 1; }

# Done: point $cache/current (or current-<variant>) at the box (examples/*.yaml name it by that path) and
# print its directory.
finish() {
  ln -sfn "$(basename "$out")" "$current.$$" && mv -T "$current.$$" "$current"
  echo "$out"
  exit 0
}

if box_complete "$out"; then
  finish
fi

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, loop devices, mount)"

# ---- prerequisites (package -> a file it provides)
ensure_prereqs() {
  local -A need=(
    [debootstrap]=/usr/sbin/debootstrap
    [debian-archive-keyring]=/usr/share/keyrings/debian-archive-keyring.gpg
    [gpgv]=/usr/bin/gpgv
    [extlinux]=/usr/bin/extlinux
    [syslinux-common]=/usr/lib/syslinux/mbr/mbr.bin
    [qemu-utils]=/usr/bin/qemu-img
    [e2fsprogs]=/usr/sbin/mkfs.ext4
    [fdisk]=/usr/sbin/sfdisk
    [mount]=/usr/sbin/losetup
    [util-linux]=/usr/bin/flock
    [openssh-client]=/usr/bin/ssh-keygen
  )
  local missing=() pkg
  for pkg in "${!need[@]}"; do
    [ -e "${need[$pkg]}" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "build_test_box.sh: installing prerequisites: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
ensure_prereqs

# ---- the build runs in a private mount namespace: its tmpfs and mounts vanish with it, whatever happens
if [ "${LV_TEST_BOX_INNER:-}" != 1 ]; then
  LV_TEST_BOX_INNER=1 exec unshare -m --propagation private "$self" "${args[@]}"
fi

mkdir -p "$cache"
chmod 0755 "$cache"
# One build at a time per cache (builds are short): whatever temporary file is found under the lock is stale.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another build is running in $cache; waiting for it"
  flock 9
fi
if box_complete "$out"; then
  log "built meanwhile by another process"
  finish
fi
rm -rf "$cache"/.tmp-* "$cache"/*.stale.* "$cache"/rootfs/*.tmp.*
if [ -e "$out" ]; then mv -T "$out" "$out.stale.$$" && rm -rf "$out.stale.$$"; fi

mirror=${LV_TEST_BOX_MIRROR:-}
if [ -z "$mirror" ]; then
  # deb822 (*.sources) stanzas and one-line (*.list) entries that name bookworm; security/updates excluded.
  mirror=$(
    {
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN{RS=""; FS="\n"} {
               uris=""; suites=""; types="";
               for (i=1;i<=NF;i++) {
                 if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/,"",uris) }
                 if ($i ~ /^Suites:/) { suites=" " $i " " }
                 if ($i ~ /^Types:/) { types=$i }
               }
               if (types ~ /(^|[ \t])deb([ \t]|$)/ && suites ~ /[ \t]bookworm[ \t]/) { split(uris,u,/[ \t]+/); print u[1] }
             }' "$f"
      done
      for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -e 's/\[[^]]*\]//' "$f" | awk '$1=="deb" && $3=="bookworm" {print $2}'
      done
    } | head -n1
  ) || true
fi
[ -n "$mirror" ] || die "no bookworm mirror found in /etc/apt/sources.list*; set LV_TEST_BOX_MIRROR"

tmp=$(mktemp -d "$cache/.tmp-$hash.XXXXXX")
work=$(mktemp -d "$cache/.tmp-work.XXXXXX")
loopdev=""
cleanup() {
  local rc=$?
  set +e
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt"; fi
  if [ -n "$loopdev" ]; then losetup -d "$loopdev" 2>/dev/null; fi
  for m in proc sys dev/pts dev; do
    mountpoint -q "$work/rootfs/$m" 2>/dev/null && umount -l "$work/rootfs/$m"
  done
  if mountpoint -q "$work" 2>/dev/null; then umount -l "$work"; fi
  rmdir "$work" 2>/dev/null
  rm -rf "$tmp"
  [ "$rc" = 0 ] || echo "build_test_box.sh: failed (exit $rc); nothing was left in $cache/$hash" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mount -t tmpfs -o "size=${LV_TEST_BOX_TMPFS_SIZE:-4g},mode=0755" lv-test-box "$work"
rootfs="$work/rootfs"
mkdir -p "$rootfs" "$work/mnt"

# ---- root file system: from the cached tarball, or debootstrap (and cache it)
pkg_key=$(printf '%s\n' "$suite" "$variant" amd64 "${packages[@]}" | LC_ALL=C sort | sha256sum | cut -c1-16)
if command -v zstd >/dev/null; then comp=(-I "zstd -T0 -3"); ext=tar.zst; else comp=(); ext=tar; fi
rootfs_tar="$cache/rootfs/$suite-$variant-$pkg_key.$ext"
if [ -s "$rootfs_tar" ]; then
  log "unpacking cached root file system $rootfs_tar"
  tar "${comp[@]}" -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -xpf "$rootfs_tar"
else
  log "debootstrap $variant $suite from $mirror (${#packages[@]} extra packages)"
  include=$(IFS=,; echo "${packages[*]}")
  if ! debootstrap --variant="$variant" --arch=amd64 --components=main --include="$include" \
    "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  log "caching root file system as $rootfs_tar"
  mkdir -p "$cache/rootfs"
  tar "${comp[@]}" -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -cpf "$rootfs_tar.tmp.$$" .
  mv -f "$rootfs_tar.tmp.$$" "$rootfs_tar"
fi

# A variant with Debian's generic kernel (it has 9p; the cloud kernel has not) keeps only that kernel: the cloud
# kernel goes, the generic one loses the drivers a VM never has and gets an initrd with only the modules that
# find the root disk (MODULES=most made it several times larger, and an initrd is read and unpacked under TCG).
generic_kernel_only() {
  local kdir
  mkdir -p "$rootfs/etc/initramfs-tools/conf.d"
  echo MODULES=list >"$rootfs/etc/initramfs-tools/conf.d/lv-test-box.conf"
  printf '%s\n' virtio_pci virtio_blk virtio_scsi sd_mod ahci ext4 crc32c_generic >>"$rootfs/etc/initramfs-tools/modules"
  # shellcheck disable=SC2046 # one word per package name
  DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get purge -y -qq \
    $(chroot "$rootfs" dpkg-query -W -f '${Package}\n' 'linux-image-*cloud-amd64') >>"$work/apt.log" 2>&1 ||
    die "removing the cloud kernel failed"
  for kdir in "$rootfs"/lib/modules/*; do
    [ -d "$kdir/kernel" ] || continue
    (cd "$kdir/kernel" && rm -rf drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging \
      drivers/bluetooth drivers/iio drivers/isdn sound net/bluetooth net/wireless net/mac80211)
    chroot "$rootfs" depmod "$(basename "$kdir")"
  done
  chroot "$rootfs" update-initramfs -u -k all >>"$work/apt.log" 2>&1 || die "update-initramfs failed"
}

# ---- a variant's packages, on top of that root file system (cached the same way, keyed by base and packages)
if [ ${#extra_packages[@]} -gt 0 ]; then
  kernel_step=""
  case " ${extra_packages[*]} " in *" linux-image-amd64 "*) kernel_step=$(declare -f generic_kernel_only) ;; esac
  extra_key=$(printf '%s\n' "$pkg_key" "${extra_packages[@]}" "$kernel_step" | LC_ALL=C sort | sha256sum | cut -c1-16)
  variant_tar="$cache/rootfs/$suite-$variant-$box_variant-$extra_key.$ext"
  if [ -s "$variant_tar" ]; then
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    log "unpacking cached $box_variant root file system $variant_tar"
    tar "${comp[@]}" -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -xpf "$variant_tar"
  else
    log "installing ${extra_packages[*]} from $mirror"
    rm -f "$rootfs/etc/resolv.conf"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    printf 'deb %s %s main\n' "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"
    # No service starts inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    mount -t proc proc "$rootfs/proc"
    mount -t sysfs sys "$rootfs/sys"
    mount --bind /dev "$rootfs/dev"
    mount -t devpts devpts "$rootfs/dev/pts"
    if ! { chroot "$rootfs" apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --no-install-recommends \
        "${extra_packages[@]}"; } >"$work/apt.log" 2>&1; then
      tail -n 30 "$work/apt.log" >&2
      die "installing ${extra_packages[*]} failed"
    fi
    if [ -n "$kernel_step" ]; then generic_kernel_only; fi
    for m in dev/pts dev sys proc; do umount "$rootfs/$m"; done
    rm -f "$rootfs/usr/sbin/policy-rc.d"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    mkdir -p "$rootfs/var/lib/apt/lists/partial"
    log "caching $box_variant root file system as $variant_tar"
    tar "${comp[@]}" -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -cpf "$variant_tar.tmp.$$" .
    mv -f "$variant_tar.tmp.$$" "$variant_tar"
  fi
fi

# ---- customise the guest
log "configuring the guest"
kver=$(cd "$rootfs/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | sort -V | tail -n1)
[ -n "$kver" ] && [ -f "$rootfs/boot/initrd.img-$kver" ] || die "no kernel/initrd in the root file system"
uuid=$(cat /proc/sys/kernel/random/uuid)

echo debian12 >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian12
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
cat >"$rootfs/etc/fstab" <<EOF
UUID=$uuid	/	ext4	errors=remount-ro	0	1
EOF

# Network: DHCP on the first (ifupdown, netplan) or any (networkd, NetworkManager) Ethernet NIC, the MAC as client
# identifier (so leases follow the MAC, as libvirt expects); the cloud image leaves it to cloud-init.
configure_network() {
  case "$box_variant" in
    networkd)
      mkdir -p "$rootfs/etc/systemd/network"
      cat >"$rootfs/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes

[DHCPv4]
ClientIdentifier=mac
EOF
      ;;
    ifupdown)
      mkdir -p "$rootfs/etc/network/interfaces.d"
      cat >"$rootfs/etc/network/interfaces" <<'EOF'
# The loopback network interface, DHCP on the first NIC; more in interfaces.d.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
EOF
      ;;
    netplan)
      mkdir -p "$rootfs/etc/netplan"
      cat >"$rootfs/etc/netplan/01-lv-test-box.yaml" <<'EOF'
network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      dhcp4: true
      dhcp-identifier: mac
EOF
      chmod 0600 "$rootfs/etc/netplan/01-lv-test-box.yaml"
      ;;
  esac
  case "$box_variant" in
    ifupdown | networkmanager)
      chroot "$rootfs" systemctl disable systemd-networkd.service systemd-networkd.socket >/dev/null 2>&1 || true
      chroot "$rootfs" systemctl mask systemd-networkd.service systemd-networkd.socket >/dev/null 2>&1
      ;;
    *) chroot "$rootfs" systemctl enable systemd-networkd.service >/dev/null 2>&1 ;;
  esac
  chroot "$rootfs" systemctl disable systemd-networkd-wait-online.service >/dev/null 2>&1 || true
  chroot "$rootfs" systemctl mask systemd-networkd-wait-online.service NetworkManager-wait-online.service >/dev/null 2>&1
}
configure_network
if [ -e "$rootfs/lib/systemd/system/systemd-resolved.service" ]; then
  chroot "$rootfs" systemctl enable systemd-resolved.service >/dev/null 2>&1
  ln -sfn ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
else
  rm -f "$rootfs/etc/resolv.conf"
  echo "nameserver 10.0.2.3" >"$rootfs/etc/resolv.conf"
fi

# Identity per VM: machine id made at boot, SSH host keys made at first boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$rootfs/var/lib/dbus/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
cat >"$rootfs/etc/ssh/sshd_config.d/10-lv-test-box.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
UseDNS no
GSSAPIAuthentication no
EOF
if [ "$box_variant" = cloud ]; then
  # cloud-init makes the host keys (ed25519 and ecdsa only: RSA took 40 s under TCG), names the host and creates
  # the user from its seed; only the NoCloud datasource is looked for (a local seed, no metadata server).
  cat >"$rootfs/etc/cloud/cloud.cfg.d/90-lv-test-box.cfg" <<'EOF'
datasource_list: [NoCloud, None]
ssh_genkeytypes: [ed25519, ecdsa]
locale: C.UTF-8
EOF
else
# Only Ed25519 and ECDSA host keys: each takes well under a second, where RSA 3072 took 40 s under TCG.
cat >"$rootfs/etc/systemd/system/ssh-host-keys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys on first boot
After=local-fs.target systemd-remount-fs.service
Before=ssh.service sshd.service multi-user.target
ConditionPathExists=|!/etc/ssh/ssh_host_ed25519_key
ConditionPathExists=|!/etc/ssh/ssh_host_ecdsa_key

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for t in ed25519 ecdsa; do f=/etc/ssh/ssh_host_$${t}_key; [ -s "$$f" ] || { rm -f "$$f" "$$f.pub"; ssh-keygen -q -t $$t -N "" -C "root@$$(hostname)" -f "$$f"; }; done; sync'

[Install]
WantedBy=multi-user.target ssh.service
EOF
chroot "$rootfs" systemctl enable ssh-host-keys.service >/dev/null 2>&1
fi

# puppet's agent would look for a puppet server at every boot: only `puppet apply` runs in the test box.
if [ -e "$rootfs/lib/systemd/system/puppet.service" ]; then
  chroot "$rootfs" systemctl mask puppet.service >/dev/null 2>&1
fi

# Fewer units that take CPU from a guest running under TCG.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer; do
  chroot "$rootfs" systemctl disable "$unit" >/dev/null 2>&1 || true
done

# The vagrant user (not in the cloud image: cloud-init creates the user its seed names).
if [ "$box_variant" != cloud ]; then
log "creating user vagrant and its key"
ssh-keygen -q -t ed25519 -N '' -C "vagrant@lv-test-box-$hash" -f "$tmp/vagrant_key"
chmod 0600 "$tmp/vagrant_key"
chmod 0644 "$tmp/vagrant_key.pub"
chroot "$rootfs" useradd --create-home --shell /bin/bash --user-group vagrant
echo 'vagrant:vagrant' | chroot "$rootfs" chpasswd
install -d -m 0700 "$rootfs/home/vagrant/.ssh"
install -m 0600 "$tmp/vagrant_key.pub" "$rootfs/home/vagrant/.ssh/authorized_keys"
chroot "$rootfs" chown -R vagrant:vagrant /home/vagrant/.ssh
printf 'vagrant ALL=(ALL) NOPASSWD:ALL\nDefaults:vagrant !requiretty\n' >"$rootfs/etc/sudoers.d/vagrant"
chmod 0440 "$rootfs/etc/sudoers.d/vagrant"
fi

# Boot loader configuration (extlinux reads /boot/extlinux on the single ext4 partition).
mkdir -p "$rootfs/boot/extlinux"
cat >"$rootfs/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
PROMPT 0
TIMEOUT 1
LABEL debian
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND root=UUID=$uuid ro console=tty0 console=ttyS0,115200n8$extra_append
EOF

rm -rf "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/root/.bash_history

# ---- disk: sparse raw, one bootable partition at 1 MiB, ext4 filled from the directory, extlinux, MBR
log "making the disk image"
disk_mib=4096
part_offset=1048576
part_mib=$((disk_mib - 1))
raw="$work/disk.raw"
truncate -s "${disk_mib}M" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --quiet "$raw" >&2
mkfs.ext4 -q -F -O ^64bit -U "$uuid" -L debian12 -E "offset=$part_offset" -d "$rootfs" "$raw" "${part_mib}M" >&2
loopdev=$(losetup --find --show --offset "$part_offset" --sizelimit $((part_mib * 1048576)) "$raw")
mount -t ext4 "$loopdev" "$work/mnt"
# Detaching a mounted loop device only marks it to go with the unmount: from here on, even a SIGKILL (the
# mount namespace dies, and the mount with it) cannot leave the loop device behind.
losetup -d "$loopdev"
loopdev=""
extlinux --install "$work/mnt/boot/extlinux" >"$work/extlinux.log" 2>&1 || { cat "$work/extlinux.log" >&2; die "extlinux --install failed"; }
umount "$work/mnt"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

log "compressing to qcow2"
stage="$tmp/box"
mkdir -p "$stage"
qemu-img convert -c -O qcow2 -m 4 -W "$raw" "$stage/box.img"
rm -f "$raw"

if [ "$box_variant" = cloud ]; then
  mv "$stage/box.img" "$tmp/debian12-cloud.qcow2"
  rmdir "$stage"
  sync -f "$tmp/debian12-cloud.qcow2" 2>/dev/null || sync
  mv -T "$tmp" "$out"
  chmod 0755 "$out"
  log "cloud image ready: $out/debian12-cloud.qcow2 ($(du -h --apparent-size "$out/debian12-cloud.qcow2" | cut -f1))"
  finish
fi
cat >"$stage/metadata.json" <<'EOF'
{"provider":"libvirt","format":"qcow2","virtual_size":4}
EOF
cat >"$stage/Vagrantfile" <<'EOF'
# Debian 12 test box for lv, built by scripts/build_test_box.sh.
Vagrant.configure("2") do |config|
  config.ssh.username = "vagrant"
  config.ssh.private_key_path = File.join(File.dirname(__FILE__), "vagrant_key")
  config.ssh.insert_key = false
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "kvm"
    libvirt.disk_bus = "virtio"
    libvirt.nic_model_type = "virtio"
  end
end
EOF
install -m 0600 "$tmp/vagrant_key" "$stage/vagrant_key"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -cf "$tmp/debian12.box" metadata.json Vagrantfile vagrant_key box.img
rm -rf "$stage"
sync -f "$tmp/debian12.box" 2>/dev/null || sync

mv -T "$tmp" "$out"
chmod 0755 "$out"
log "box ready: $out/debian12.box ($(du -h --apparent-size "$out/debian12.box" | cut -f1))"
finish
}
