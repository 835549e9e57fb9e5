#!/usr/bin/env bash
# "Run All" of the notebooks, slow and GPU cells included, as a new user on a fresh clone without the full data set
# would run them: a scratch HOME (no ~/.ssfnas runs, no checkouts of the original codes), an empty data folder and
# the notebooks' temporary files in a scratch folder. Every cell that needs the full data set or a GPU must say so
# and go on; every other cell must pass. Usage: tools/run_all_without_data.sh [nbdev_test options, e.g. --path nbs/05*]
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ ! -x "$repo/.venv/bin/nbdev_test" ]; then echo "no .venv/bin/nbdev_test: run \`make test\` once (it installs everything)" >&2; exit 2; fi
workers=${SSFNAS_TEST_WORKERS:-1}
case $workers in ''|*[!0-9]*) echo "SSFNAS_TEST_WORKERS must be a whole number, got '$workers'" >&2; exit 2;; esac
# a new user has none of the project's settings: no runs folder, device, native-kernel folder or original checkouts
unset SSFNAS_RUNS SSFNAS_DEVICE SSFNAS_NATIVE SSFNAS_NATIVE_DIR LDAM_DRW DARTS_CNN
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ssfnas-runall.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/data" "$scratch/tmp"
[ "$workers" -gt 1 ] && export OMP_NUM_THREADS=1  # one torch thread per notebook process: never more threads than cores
start=$(date +%s)
HOME="$scratch/home" SSFNAS_DATA="$scratch/data" TMPDIR="$scratch/tmp" PYTHONPATH="$repo" PYTHONHASHSEED=0 \
    "$repo/.venv/bin/nbdev_test" --flags "slow gpu" --n_workers "$workers" --timing "$@"
rc=$?
echo "run-all wall time: $(( $(date +%s) - start )) s, exit code $rc"
exit $rc
