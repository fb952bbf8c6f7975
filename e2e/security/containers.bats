#!/usr/bin/env bats
# Every container the chart renders runs unprivileged, and the image's final stage runs
# as a numeric non-root user. No cluster needed: `helm template` with each rendering
# the chart tests cover, read with PyYAML (python3-yaml, from make deps).

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# Capabilities each container may add (none: the speaker only makes outgoing
# connections to port 179, and TCP MD5 and IP_TTL need no capability). Update when a
# component's needs change, e.g. speaker=NET_BIND_SERVICE.
ALLOWED_CAPS="webhook= speaker="
# Containers allowed the host's network namespace (BGP from the node's addresses).
HOST_NETWORK="speaker"

setup_file() {
  . "$REPO/e2e/tools/paths.sh"
  local v
  for v in "default|" "cert-manager|--set certManager.enabled=true" \
           "debug|--set webhook.logLevel=debug --set speaker.logLevel=debug"; do
    # shellcheck disable=SC2086
    "$HELM" template bgpcomm "$REPO/charts/bgpcomm" --namespace metallb-system ${v#*|} \
      >"$BATS_FILE_TMPDIR/${v%%|*}.yaml"
  done
}

# check_pods FILE: prints one line per violation and "containers=N" last.
check_pods() {
  ALLOWED_CAPS=$ALLOWED_CAPS HOST_NETWORK=$HOST_NETWORK /usr/bin/python3 - "$1" <<'PY'
import os, sys, yaml
allowed = dict(kv.split("=", 1) for kv in os.environ["ALLOWED_CAPS"].split())
host_network = set(os.environ["HOST_NETWORK"].split())
bad, count = [], 0
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if not doc or doc.get("kind") not in ("Deployment", "DaemonSet", "StatefulSet", "Job", "Pod"):
        continue
    spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    pod_sc = spec.get("securityContext") or {}
    name = f'{doc["kind"]}/{doc["metadata"]["name"]}'
    for key in ("hostPID", "hostIPC"):
        if spec.get(key): bad.append(f"{name}: {key}")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        count += 1
        where = f'{name} container {c["name"]}'
        sc = c.get("securityContext") or {}
        eff = lambda k: sc.get(k, pod_sc.get(k))
        if eff("runAsNonRoot") is not True: bad.append(f"{where}: runAsNonRoot is not true")
        if eff("runAsUser") == 0: bad.append(f"{where}: runAsUser 0")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("privileged"): bad.append(f"{where}: privileged")
        if sc.get("readOnlyRootFilesystem") is not True:
            bad.append(f"{where}: readOnlyRootFilesystem is not true")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []): bad.append(f"{where}: capabilities not dropped (ALL)")
        ok = set(filter(None, allowed.get(c["name"], "").split(",")))
        extra = set(caps.get("add") or []) - ok
        if extra: bad.append(f"{where}: capabilities added {sorted(extra)}")
        if spec.get("hostNetwork") and c["name"] not in host_network:
            bad.append(f"{where}: hostNetwork")
print("\n".join(bad + [f"containers={count}"]))
PY
}

@test "every rendered container: non-root, no escalation, read-only root, capabilities dropped" {
  local f
  for f in default cert-manager debug; do
    run check_pods "$BATS_FILE_TMPDIR/$f.yaml"
    assert_success
    # The webhook Deployment and the speaker DaemonSet, nothing flagged.
    assert_output "containers=2"
  done
}

@test "the checker flags a weakened rendering (it can fail)" {
  sed -e 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/' \
      -e 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' \
      -e 's/drop: \[ALL\]/drop: [NET_RAW]/' \
      "$BATS_FILE_TMPDIR/default.yaml" >"$BATS_FILE_TMPDIR/weak.yaml"
  run check_pods "$BATS_FILE_TMPDIR/weak.yaml"
  assert_output --partial 'container webhook: allowPrivilegeEscalation is not false'
  assert_output --partial 'container speaker: readOnlyRootFilesystem is not true'
  assert_output --partial 'container speaker: capabilities not dropped (ALL)'
}

@test "the Dockerfile's final stage runs as a numeric non-root USER" {
  local final user
  # Everything after the last FROM is the final stage.
  final=$(awk '/^FROM /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$REPO/Dockerfile")
  user=$(grep -E '^USER ' <<<"$final" | tail -n 1 | awk '{print $2}')
  echo "final stage USER: $user"
  [[ $user =~ ^[0-9]+(:[0-9]+)?$ ]]
  (( ${user%%:*} != 0 ))
  [[ $user != *:* ]] || (( ${user#*:} != 0 ))
  # The chart runs the same uid the image declares.
  run grep -c "runAsUser: ${user%%:*}" "$BATS_FILE_TMPDIR/default.yaml"
  assert_output 2
}
