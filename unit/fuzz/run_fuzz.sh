#!/usr/bin/env bash
# run_fuzz.sh BINARY CORPUS: runs a libFuzzer target for $BGPCOMM_FUZZ_SECONDS over a
# scratch copy of CORPUS. A crash, leak or sanitizer report fails the test and leaves the
# reproducer in the scratch dir. New inputs are written back into CORPUS (the repository's
# corpus) only when BGPCOMM_FUZZ_MERGE=1 (`make fuzz` sets it): libFuzzer's -merge=1 adds
# just the inputs that reach new coverage, so the kept corpus stays small.
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
  grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$work/log" || tail -n 3 "$work/log"
  if [ "${BGPCOMM_FUZZ_MERGE:-0}" = 1 ]; then
    before=$(find "$corpus" -type f | wc -l)
    "$bin" -merge=1 "$corpus" "$work/corpus" > "$work/merge.log" 2>&1 ||
      { tail -n 20 "$work/merge.log"; echo "corpus merge failed" >&2; exit 1; }
    echo "corpus $corpus: $before -> $(find "$corpus" -type f | wc -l) inputs"
  fi
  rm -rf "$work"
else
  tail -n 60 "$work/log"
  echo "fuzz target failed; reproducer and log kept in $work" >&2
  exit 1
fi
