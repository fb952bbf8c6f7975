#!/usr/bin/env bash
# Runs one slow step of the Makefile with its output in a log instead of the terminal:
#   scripts/step.sh NAME LOG COMMAND...
# Prints "NAME: ..." when it starts and its time when it ends; on failure the last lines
# of the log and the log's path. VERBOSE=1 shows everything as it happens.
set -uo pipefail
name=$1 log=$2; shift 2
if [[ ${VERBOSE:-0} == 1 ]]; then
  exec "$@"
fi
mkdir -p "$(dirname "$log")"
start=$(date +%s)
echo "$name: $* (log: $log)"
rc=0
"$@" >"$log" 2>&1 || rc=$?
if (( rc == 0 )); then
  echo "$name: done in $(( $(date +%s) - start )) s"
  exit 0
fi
echo "$name: FAILED after $(( $(date +%s) - start )) s (exit $rc); the end of $log:" >&2
grep -E 'error|Error|FAILED|\*\*\*' "$log" | tail -n 30 >&2 || true
echo "--- last lines" >&2
tail -n 15 "$log" >&2
echo "$name: full log: $log" >&2
exit $rc
