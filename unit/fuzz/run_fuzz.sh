#!/usr/bin/env bash
# run_fuzz.sh BINARY CORPUS: runs a libFuzzer target for $BGPCOMM_FUZZ_SECONDS over a
# scratch copy of CORPUS (new inputs are not written into the repository). A crash,
# leak or sanitizer report fails the test and leaves the reproducer in the scratch dir.
set -euo pipefail
bin=$(realpath -m "$1") corpus=$(realpath -m "$2") seconds=${BGPCOMM_FUZZ_SECONDS:-20}
if [ ! -x "$bin" ]; then
  echo "fuzz target $bin is not built: run 'make fuzz-build'" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-fuzz.XXXXXX")
mkdir -p "$work/corpus"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work/corpus" > "$work/log" 2>&1; then
  tail -n 3 "$work/log"
  rm -rf "$work"
else
  tail -n 60 "$work/log"
  echo "fuzz target failed; reproducer and log kept in $work" >&2
  exit 1
fi
