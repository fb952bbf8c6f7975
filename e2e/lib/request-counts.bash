# Requests the API server served, from its own apiserver_request_total (/metrics), for
# tests and benchmarks that bound how often a component writes. Needs a function `k`
# (kubectl with the admin kubeconfig).

# request_counts: one line "RESOURCE VERB COUNT" per resource and write verb (POST, PATCH,
# PUT, DELETE; reads are left out), summed over codes, scopes and subresources.
request_counts() {
  k get --raw /metrics | awk '/^apiserver_request_total\{/ && /verb="(PATCH|POST|PUT|DELETE)"/ {
      match($0, /resource="[^"]*"/); r = substr($0, RSTART + 10, RLENGTH - 11)
      match($0, /verb="[^"]*"/); v = substr($0, RSTART + 6, RLENGTH - 7)
      n[r " " v] += $NF }
    END { for (key in n) printf "%s %d\n", key, n[key] }' | sort
}

# writes_of RESOURCE: the write requests on RESOURCE so far (any write verb).
writes_of() {
  request_counts | awk -v r="$1" '$1 == r { n += $3 } END { print n + 0 }'
}
