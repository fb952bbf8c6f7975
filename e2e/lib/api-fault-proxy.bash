# A hostile path to kube-apiserver for the fault suites (sourced; defines functions only):
# e2e/lib/api_fault_proxy.py started once per file, its mode switched by the test.
# Needs e2e/lib/proc.bash (spawn, stop_pid, wait_for) and own_pki's files.
#
#   fault_proxy_start DIR KUBECONFIG PKI   the proxy in front of KUBECONFIG's server,
#                                          serving PKI/tls.crt (IP:127.0.0.1); sets
#                                          FAULT_PROXY_PID, FAULT_PROXY_PORT, FAULT_PROXY_LOG
#   fault_proxy_mode MODE...               pass | blackhole | throttle REGEX
#   fault_proxy_kubeconfig IN OUT PKI      IN's token through the proxy (server and CA)
#   fault_proxy_stop                       by pid

fault_proxy_start() {
  local dir=$1 kubeconfig=$2 pki=$3 server host port
  FAULT_PROXY_MODE_FILE=$dir/proxy.mode
  FAULT_PROXY_LOG=$dir/proxy.log
  echo pass >"$FAULT_PROXY_MODE_FILE"
  server=$("$KUBECTL" config view --raw --minify --kubeconfig "$kubeconfig" \
    -o jsonpath='{.clusters[0].cluster.server}')
  host=${server#https://}; port=${host##*:}; host=${host%:*}
  : >"$FAULT_PROXY_LOG"
  FAULT_PROXY_PID=$(spawn "$FAULT_PROXY_LOG" /usr/bin/python3 "$E2E_REPO/e2e/lib/api_fault_proxy.py" \
    "$host" "$port" "$pki/tls.crt" "$pki/tls.key" "$FAULT_PROXY_MODE_FILE")
  wait_for 20 grep -qE '^[0-9]+$' "$FAULT_PROXY_LOG" || return 1
  FAULT_PROXY_PORT=$(grep -m1 -E '^[0-9]+$' "$FAULT_PROXY_LOG")
  export FAULT_PROXY_PID FAULT_PROXY_PORT FAULT_PROXY_LOG FAULT_PROXY_MODE_FILE
}

fault_proxy_mode() { echo "$*" >"$FAULT_PROXY_MODE_FILE"; }

fault_proxy_kubeconfig() {
  local in=$1 out=$2 pki=$3
  sed -e "s#server: .*#server: https://127.0.0.1:$FAULT_PROXY_PORT#" \
    -e "s#certificate-authority-data: .*#certificate-authority-data: $(base64 -w0 "$pki/ca.crt")#" \
    "$in" >"$out"
  chmod 600 "$out"
}

fault_proxy_stop() {
  [[ -n ${FAULT_PROXY_PID:-} ]] || return 0
  stop_pid "$FAULT_PROXY_PID" /usr/bin/python3 5
  FAULT_PROXY_PID=
}
