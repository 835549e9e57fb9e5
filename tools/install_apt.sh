#!/usr/bin/env bash
# install_apt.sh COMMAND PACKAGE: installs the Debian package PACKAGE when the program COMMAND is missing
# (graphviz's `dot` draws genotype graphs; a C++ compiler and ninja build the native CPU kernels of ssfnas.fast,
# and torch.compile builds its CPU kernels with the compiler).
set -euo pipefail
cmd=$1 pkg=$2
command -v "$cmd" >/dev/null && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
else
  echo "'$cmd' is missing: install the package that provides it (Debian: 'apt-get install $pkg')" >&2
  exit 1
fi
command -v "$cmd" >/dev/null && echo "installed $pkg ($cmd)"
