#!/usr/bin/env bash
# fetch_npm.sh DEST PKG@VERSION...: `npm pack` each pinned package into DEST unless its .tgz is there already.
# The docs bundle MathJax (equations) and lunr (search) from these tarballs, so `make docs` itself needs no network.
set -euo pipefail
dest=$1; shift
mkdir -p "$dest"
for spec in "$@"; do
  name=${spec%@*} version=${spec##*@}
  [ -s "$dest/$name-$version.tgz" ] && continue
  if ! command -v npm >/dev/null; then
    echo "npm is missing: install Node.js (Debian: 'apt-get install npm') to fetch $spec for the docs" >&2; exit 1
  fi
  (cd "$dest" && npm pack --silent "$spec" >/dev/null)
  [ -s "$dest/$name-$version.tgz" ] || { echo "npm pack $spec did not write $dest/$name-$version.tgz" >&2; exit 1; }
  echo "fetched $spec into $dest"
done
