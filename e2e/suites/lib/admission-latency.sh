#!/usr/bin/env bash
# Prints p50 and p99 of the apiserver's admission webhook latency for bgpcomm's
# webhooks, from the histogram apiserver_admission_webhook_admission_duration_seconds
# in `kubectl get --raw /metrics` (linear interpolation inside the bucket, as
# Prometheus' histogram_quantile does).
#
# Usage: admission-latency.sh [BEFORE_METRICS_FILE]
#   With a file of /metrics taken earlier, only the requests since then are counted.
# Output: one line per webhook: NAME TYPE count=N p50=X ms p99=Y ms
set -euo pipefail
kubectl=${KUBECTL:-kubectl}
before=${1:-/dev/null}
now=$(mktemp); trap 'rm -f "$now"' EXIT
"$kubectl" get --raw /metrics >"$now"
awk '
  function label(s, key,   m) {
    if (match(s, key "=\"[^\"]*\"")) { m = substr(s, RSTART, RLENGTH); sub(/^[^"]*"/, "", m); sub(/"$/, "", m); return m }
    return ""
  }
  /^apiserver_admission_webhook_admission_duration_seconds_bucket\{/ {
    name = label($0, "name"); if (name !~ /bgpcomm\.io$/) next
    key = name " " label($0, "type") SUBSEP label($0, "le")
    if (FILENAME == ARGV[1]) base[key] += $NF; else cur[key] += $NF
  }
  END {
    for (k in cur) {
      split(k, p, SUBSEP); series[p[1]] = 1
      le = p[2]; v = cur[k] - base[k]; count[p[1], le] = v
      if (le == "+Inf") total[p[1]] = v; else bounds[p[1]] = bounds[p[1]] " " le
    }
    for (s in series) {
      n = split(substr(bounds[s], 2), b, " ")
      # sort bucket bounds numerically
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (b[j] + 0 < b[i] + 0) { t = b[i]; b[i] = b[j]; b[j] = t }
      line = s " count=" total[s]
      split("0.5 0.99", qs, " ")
      for (qi = 1; qi <= 2; qi++) {
        q = qs[qi]; rank = q * total[s]; prev_le = 0; prev_c = 0; val = "n/a"
        if (total[s] > 0) for (i = 1; i <= n; i++) {
          c = count[s, b[i]]
          if (c >= rank) {
            val = (c == prev_c) ? b[i] : prev_le + (b[i] - prev_le) * (rank - prev_c) / (c - prev_c)
            val = sprintf("%.1f", val * 1000); break
          }
          prev_le = b[i]; prev_c = c
        }
        line = line " " (qi == 1 ? "p50=" : "p99=") val " ms"
      }
      print line
    }
  }' "$before" "$now" | sort
