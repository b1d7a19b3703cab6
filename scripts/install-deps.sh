#!/usr/bin/env bash
# Installs the Debian 12 packages Edgent Workbench needs, and only the missing ones.
# Usage: scripts/install-deps.sh [--gui|--no-gui]
# When not root and something is missing, prints the exact apt-get line and fails.
set -euo pipefail

core_pkgs=(build-essential cmake ninja-build pkg-config zlib1g-dev
           libtorch-dev libzmq3-dev cppzmq-dev libsqlite3-dev sqlite3 libxgboost-dev libzstd-dev
           libgoogle-perftools-dev qt6-base-dev libqt6sql6-sqlite dataset-fashion-mnist libbenchmark-dev
           iproute2)
gui_pkgs=(qt6-tools-dev libqcustomplot-dev xvfb xauth)

pkgs=("${core_pkgs[@]}")
if [[ "${1:---gui}" != "--no-gui" ]]; then
  pkgs+=("${gui_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "edgent: missing Debian packages; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "edgent: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
