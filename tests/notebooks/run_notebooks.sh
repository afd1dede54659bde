#!/bin/sh
# Executes every notebook under notebooks/ headless with the freshly built ksim
# (KSIM_BIN, set by meson) and fails if a cell raises, e.g. a shape assert.
# usage: run_notebooks.sh NOTEBOOK_DIR
set -eu
nbdir=$1
: "${KSIM_BIN:?KSIM_BIN must point at the ksim executable}"
export KSIM_BIN
out=$(mktemp -d "${TMPDIR:-/tmp}/ksim-notebooks.XXXXXX")
trap 'rm -rf "$out"' EXIT
# Debian's nbconvert and kernel: /usr/bin/jupyter runs /usr/bin/python3, whatever python3 is
# first on PATH.
jupyter=${JUPYTER:-jupyter}
[ -x /usr/bin/jupyter ] && jupyter=${JUPYTER:-/usr/bin/jupyter}
export PYDEVD_DISABLE_FILE_VALIDATION=1
status=0
for nb in "$nbdir"/*.ipynb; do
  echo "== $(basename "$nb")"
  if ! "$jupyter" nbconvert --to notebook --execute --output-dir "$out" \
      --ExecutePreprocessor.timeout=300 "$nb"; then
    status=1
  fi
done
exit $status
