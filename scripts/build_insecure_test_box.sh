#!/usr/bin/env bash
# build_insecure_test_box.sh: the test box as stock public boxes (generic/*, debian/*) are made: no
# vagrant_key inside, and the vagrant user accepts Vagrant's published insecure public keys (RSA and
# ed25519) until a key of the VM's own replaces them. Derived from scripts/build_test_box.sh's box (built, or
# taken from its cache, which reuses the cached root file system), so it costs a disk image round trip, not
# a build.
#
#   scripts/build_insecure_test_box.sh   the last stdout line is the output directory, holding
#                                        debian12-insecure.box (tar: metadata.json, Vagrantfile, box.img)
#
# Cached as ${LV_TEST_BOX_CACHE:-/var/cache/lv-test-box}/<hash>-insecure/, <hash> from the base box's
# directory and this script; a directory that exists is complete (built aside, renamed into place, one build
# at a time). Needs root (a loop device and a mount, in a private mount namespace). Progress on stderr.
set -euo pipefail
{
self=$(readlink -f "$0")
here=$(dirname "$self")
base=$("$here/build_test_box.sh" | tail -n 1)
cache=$(dirname "$base")
hash=$({ echo "$base"; sha256sum <"$self"; } | sha256sum | cut -c1-16)
out="$cache/$hash-insecure"
log() { echo "[build_insecure_test_box] $*" >&2; }

exec 9>"$cache/.insecure.lock"
flock 9
if [ -s "$out/debian12-insecure.box" ]; then
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d "$cache/.insecure-work.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "deriving from $base/debian12.box"
tar -C "$tmp" -xf "$base/debian12.box" box.img metadata.json
qemu-img convert -O raw "$tmp/box.img" "$tmp/disk.raw"
rm -f "$tmp/box.img"

# Vagrant's insecure public keys, as Vagrant publishes them (keys/vagrant.pub, keys/vagrant.pub.ed25519).
cat >"$tmp/authorized_keys" <<'KEYS'
ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y vagrant insecure public key
KEYS

# The root partition starts at 1 MiB (build_test_box.sh); mounted in a private mount namespace, so nothing
# outlives this script.
log "writing Vagrant's insecure public keys into /home/vagrant/.ssh/authorized_keys"
unshare -m --propagation private bash -euo pipefail -c '
  tmp=$1
  mkdir -p "$tmp/mnt"
  loop=$(losetup --find --show --offset 1048576 "$tmp/disk.raw")
  mount -t ext4 "$loop" "$tmp/mnt"
  losetup -d "$loop"
  keys="$tmp/mnt/home/vagrant/.ssh/authorized_keys"
  install -m 0600 -o "$(stat -c %u "$tmp/mnt/home/vagrant")" -g "$(stat -c %g "$tmp/mnt/home/vagrant")" \
    "$tmp/authorized_keys" "$keys"
  umount "$tmp/mnt"
' _ "$tmp"

log "compressing to qcow2"
mkdir -p "$tmp/stage"
qemu-img convert -c -O qcow2 -m 4 -W "$tmp/disk.raw" "$tmp/stage/box.img"
rm -f "$tmp/disk.raw"
cp "$tmp/metadata.json" "$tmp/stage/metadata.json"
cat >"$tmp/stage/Vagrantfile" <<'VF'
# Debian 12 test box for lv, as stock boxes are: Vagrant's insecure key, replaced at first login.
Vagrant.configure("2") do |config|
  config.ssh.username = "vagrant"
end
VF
mkdir -p "$tmp/out"
tar -C "$tmp/stage" --owner=0 --group=0 --numeric-owner -cf "$tmp/out/debian12-insecure.box" \
  metadata.json Vagrantfile box.img
chmod 0755 "$tmp/out"
mv -T "$tmp/out" "$out"
log "box ready: $out/debian12-insecure.box"
echo "$out"
exit 0
}
