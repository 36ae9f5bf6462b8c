#!/bin/sh
# A provisioner script for examples/machine.yaml: runs as the ssh user (privileged: false) at every boot.
set -e
echo "greeting=$GREETING args=$*" > "$HOME/lv-last-boot"
echo "unprivileged provisioner ran as $(id -un): $GREETING $*"
