#!/usr/bin/env bash
# check_disk.sh GIB: stop with a clear message when this folder's disk has less than GIB GiB free.
# `make` calls it before it creates .venv: torch with its CUDA libraries takes ~6 GiB, and pip needs room to
# unpack the wheels; running out of space halfway leaves a broken .venv and pip's bare "[Errno 28]".
set -euo pipefail
need_gib=${1:?usage: check_disk.sh GIB}
avail_kib=$(df -Pk . | awk 'NR==2 {print $4}')
if (( avail_kib < need_gib * 1024 * 1024 )); then
    echo "check_disk: only $(( avail_kib / 1024 )) MiB free on the disk of $(pwd); installing .venv needs about" \
         "${need_gib} GiB (torch with its CUDA libraries). Free some space (an old clone's .venv is ~6 GiB," \
         "old test runs may sit in ${TMPDIR:-/tmp}) and run make again." >&2
    exit 1
fi
