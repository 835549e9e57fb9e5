#!/usr/bin/env bash
# Installs Debian's graphviz (the `dot` program that draws genotype graphs) when it is missing.
set -euo pipefail
command -v dot >/dev/null && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
else
  echo "graphviz's 'dot' is missing: install it (e.g. 'apt-get install graphviz' or 'brew install graphviz')" >&2
  exit 1
fi
command -v dot >/dev/null && echo "installed graphviz: $(dot -V 2>&1)"
