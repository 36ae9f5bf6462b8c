#!/usr/bin/env bash
# setup.sh: make this Debian/Ubuntu machine ready for lv, then apply the manifests given.
#
#   sudo scripts/setup.sh [MANIFEST...]
#
# Installs what is missing (Deno and lv's packages: scripts/packages.sh), starts virtlogd and libvirtd when
# they are not running (systemd when it is PID 1, the daemons directly otherwise), puts an `lv` command in
# /usr/local/bin, checks the host with `lv doctor`, and finally runs `lv apply -f` on each MANIFEST.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (sudo scripts/setup.sh)" >&2; exit 1; }

# shellcheck source=packages.sh
source scripts/packages.sh
install_missing setup.sh "${LV_PACKAGES[@]}"

if ! command -v deno >/dev/null; then
  command -v npm >/dev/null || { apt-get update -qq; apt-get install -y -qq --no-install-recommends npm >/dev/null; }
  echo "setup.sh: installing Deno"
  npm install -g deno@2.9.6 >/dev/null
fi

if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    systemctl enable --now virtlogd libvirtd
  else
    echo "setup.sh: starting virtlogd and libvirtd (no systemd)"
    mkdir -p /run/libvirt
    virtlogd -d -p /run/libvirt/lv-virtlogd.pid
    libvirtd -d -p /run/libvirt/lv-libvirtd.pid
  fi
  for _ in $(seq 300); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
fi

# lv bundled under /usr/local/lib/lv and its launcher: it keeps working when this checkout moves or is deleted
# (deno compile would need to download its runtime, which may not be reachable). In chunks, so a command loads
# what it uses (scripts/bundle.sh says how; bench item 8).
scripts/bundle.sh /usr/local/lib/lv
ln -sfn /usr/local/lib/lv/lv /usr/local/bin/lv
mkdir -p /etc/bash_completion.d && lv completion bash >/etc/bash_completion.d/lv
# zsh and fish, where they are installed: their vendor completion directories.
[ ! -d /usr/share/zsh/vendor-completions ] || lv completion zsh >/usr/share/zsh/vendor-completions/_lv
[ ! -d /usr/share/fish/vendor_completions.d ] || lv completion fish >/usr/share/fish/vendor_completions.d/lv.fish
# The system store's directory (README "Whose store"): the members of group libvirt share qemu:///system's objects.
install -d -m 2770 -o root -g libvirt /var/lib/lv
lv doctor || { echo "setup.sh: lv doctor found a problem (FAIL above, with its fix)" >&2; exit 1; }

for manifest in "$@"; do
  lv apply -f "$manifest"
done
