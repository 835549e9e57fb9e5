#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: every notebook under nbdev_test (tests/test_notebooks.py),
# pytest's own tests, the export check and the docs build. Ends with the line `N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONHASHSEED=0
# The notebooks write their runs into temporary folders (a user looks at them; a test does not): give the
# run one folder of its own and remove it at the end, so repeated runs do not fill the disk (~0.1 GB a run).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssfnas-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
workers=${SSFNAS_TEST_WORKERS:-2}
start=$(date +%s)
.venv/bin/python -m pytest -n "$workers" --dist loadgroup -m "not slow" -p no:cacheprovider \
    --junitxml=.pytest-results.xml -q "$@"
rc=$?
echo "test wall time: $(( $(date +%s) - start )) s"
.venv/bin/python tools/summarize_junit.py .pytest-results.xml
rm -f .pytest-results.xml
exit $rc
