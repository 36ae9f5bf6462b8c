# packages.sh: the Debian packages lv and its tests need, in one place. Sourced by scripts/setup.sh (lv's
# own), scripts/test.sh and .ci/run (lv's and the tests'); install_missing installs only what is missing.
# shellcheck shell=bash

# lv itself: libvirt and QEMU, qemu-img, rsync and ssh for guests, XML checks, genisoimage (cloud-init
# seeds), ovmf and swtpm (firmware: efi, tpm), bzip2 and xz (compressed .box files).
LV_PACKAGES=(libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
  dnsmasq-base iproute2 openssh-client openssh-server rsync tar bzip2 xz-utils ca-certificates libxml2-utils
  genisoimage ovmf swtpm swtpm-tools)

# The tests: network namespaces (util-linux) and their reaper (tini, scripts/lab.sh), etcd, openssl and sqlite3 (secrets and store checks), the test
# boxes (debootstrap, extlinux, e2fsprogs, fdisk), a userspace NFS server, ansible, zsh and fish (completion).
LV_TEST_PACKAGES=(util-linux tini etcd-server etcd-client openssl sqlite3 debootstrap extlinux syslinux-common
  e2fsprogs fdisk nfs-ganesha nfs-ganesha-vfs ansible-core zsh fish)

# The benchmarks' vagrant item only (bench/vagrant.ts, `bench/run.sh --only=vagrant`): Debian's vagrant and
# vagrant-libvirt, for lv and vagrant side by side. Not installed by CI or setup.sh.
LV_BENCH_PACKAGES=(vagrant vagrant-libvirt)

# install_missing WHO PACKAGE...: apt-get installs the packages not installed yet (needs root).
install_missing() {
  local who=$1 p
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "$who: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
