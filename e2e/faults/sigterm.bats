#!/usr/bin/env bats
# SIGTERM during load: requests the webhook has accepted are all answered, and it exits
# 0 within its drain time. Two kinds of load run when the signal comes:
#  - held requests: TLS connections whose request is half sent (headers and part of
#    the body) when the signal arrives, and completed after it: each must get its 200;
#  - parallel curl loops: every attempt ends in an answer (HTTP 200) or is refused
#    before its TLS handshake (curl exit 7 or 35: never accepted); an empty reply or a
#    reset after the handshake (exit 52, 56, ...) is a lost request.

load ../suites/helpers
load ../suites/lib/webhook-process

HELD=4          # held requests (the webhook runs 8 worker threads)
CURL_LOOPS=8    # more than the free workers: some connections wait in the queue at SIGTERM
DRAIN_LIMIT=12  # seconds from SIGTERM to exit: 10 s read timeout + margin

setup_file() {
  require_cluster
  export PKI=$BATS_FILE_TMPDIR/pki
  own_pki "$PKI"
}

teardown() {
  [[ -n ${WEBHOOK_CHILD:-} ]] && kill -KILL "$WEBHOOK_CHILD" 2>/dev/null || true
  [[ -n ${HOLDER:-} ]] && kill "$HOLDER" 2>/dev/null || true
  rm -f "$BATS_FILE_TMPDIR/stop"
}

# held PORT N REVIEW_FILE: opens N connections, sends each a request up to half its
# body, prints "held" and waits for a line on stdin; then sends the rest and prints
# each connection's status line ("HTTP/1.1 200 OK") or "ERROR <reason>".
held() {
  # The script from a file: stdin is the go-ahead line.
  cat >"$BATS_FILE_TMPDIR/held.py" <<'PY'
import socket, ssl, sys
port, n, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
ctx = ssl.create_default_context(cafile=sys.argv[4])
head = (f"POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
conns = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="127.0.0.1")
    s.sendall(head + body[: len(body) // 2])
    conns.append(s)
print("held", flush=True)
sys.stdin.readline()
for s in conns:
    try:
        s.sendall(body[len(body) // 2 :])
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        print(data.split(b"\r\n")[0].decode() if data else "ERROR empty reply", flush=True)
    except Exception as e:
        print(f"ERROR {type(e).__name__}: {e}", flush=True)
PY
  /usr/bin/python3 "$BATS_FILE_TMPDIR/held.py" "$@"
}

# curl_loop: one line per attempt until the stop file exists: "CURL_EXIT HTTP_CODE".
curl_loop() {
  local out rc
  while [[ ! -e $BATS_FILE_TMPDIR/stop ]]; do
    out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert "$PKI/ca.crt" \
      -H 'Content-Type: application/json' --data-binary "@$BATS_FILE_TMPDIR/review.json" \
      "https://127.0.0.1:$PORT/validate-metallb-io-v1beta1-community") && rc=0 || rc=$?
    echo "$rc $out"
  done
}

@test "SIGTERM under load: every accepted request answered, exit 0 within the drain time" {
  admission_review sigterm-1 Community c1 metallb-system \
    '{"communities":[{"name":"a","value":"64512:100"}]}' >"$BATS_FILE_TMPDIR/review.json"
  # A child of this test (not spawned) so that its exit status can be waited for; it
  # chooses its ports (0) and logs them.
  "$OWN_WEBHOOK_BIN" --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" --namespace metallb-system \
    --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key" --bind-address 127.0.0.1 \
    --port 0 --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 \
    >"$BATS_FILE_TMPDIR/webhook.log" 2>&1 3>&- &
  WEBHOOK_CHILD=$!
  local health
  health=$(port_from_log "$BATS_FILE_TMPDIR/webhook.log" 0 "event=listening endpoint=health")
  wait_for 30 curl -sf "http://127.0.0.1:$health/readyz"
  PORT=$(port_from_log "$BATS_FILE_TMPDIR/webhook.log" 0 "event=serving")

  # Held requests first, then the curl loops, then the signal.
  coproc HOLD { held "$PORT" "$HELD" "$BATS_FILE_TMPDIR/review.json" "$PKI/ca.crt"; }
  HOLDER=$HOLD_PID
  local line; read -r -t 20 line <&"${HOLD[0]}"
  [[ $line == held ]]
  local i loops=()
  for ((i = 0; i < CURL_LOOPS; i++)); do
    curl_loop >"$BATS_FILE_TMPDIR/curl-$i" &
    loops+=($!)
  done
  sleep 1.5
  local signalled=$(date +%s%N)
  kill -TERM "$WEBHOOK_CHILD"
  sleep 0.5
  echo go >&"${HOLD[1]}"
  local answers=()
  while read -r -t 20 line <&"${HOLD[0]}"; do answers+=("$line"); done
  local rc=0
  wait "$WEBHOOK_CHILD" || rc=$?
  local exited_ms=$(( ($(date +%s%N) - signalled) / 1000000 ))
  WEBHOOK_CHILD=
  touch "$BATS_FILE_TMPDIR/stop"
  wait "${loops[@]}" || true

  printf '# held answers: %s\n' "${answers[*]}" >&3
  local total answered refused reset lost
  total=$(cat "$BATS_FILE_TMPDIR"/curl-* | wc -l)
  answered=$(cat "$BATS_FILE_TMPDIR"/curl-* | grep -c '^0 200$' || true)
  refused=$(cat "$BATS_FILE_TMPDIR"/curl-* | grep -c -E '^(7|35) 000$' || true)
  reset=$(cat "$BATS_FILE_TMPDIR"/curl-* | grep -c -E '^35 000$' || true)
  lost=$((total - answered - refused))
  echo "# curl: $total requests, $answered answered, $refused refused before accept ($reset of them reset in the TLS handshake), $lost lost; exit $rc after $exited_ms ms" >&3
  cat "$BATS_FILE_TMPDIR"/curl-* | grep -v -E '^0 200$|^(7|35) 000$' | sort | uniq -c || true
  grep -E 'event=(draining|drained)' "$BATS_FILE_TMPDIR/webhook.log" || true
  [[ ${#answers[@]} == "$HELD" ]]
  for line in "${answers[@]}"; do [[ $line == "HTTP/1.1 200 OK" ]]; done
  ((answered > 10))
  ((lost == 0))
  ((rc == 0))
  ((exited_ms < DRAIN_LIMIT * 1000))
  grep -q 'event=drained' "$BATS_FILE_TMPDIR/webhook.log"
}

@test "--shutdown-delay: on SIGTERM /readyz fails at once while requests are still answered for the delay" {
  admission_review sigterm-2 Community c1 metallb-system \
    '{"communities":[{"name":"a","value":"64512:100"}]}' >"$BATS_FILE_TMPDIR/review.json"
  local delay=8
  "$OWN_WEBHOOK_BIN" --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" --namespace metallb-system \
    --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key" --bind-address 127.0.0.1 \
    --port 0 --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 \
    --shutdown-delay "${delay}s" >"$BATS_FILE_TMPDIR/webhook.log" 2>&1 3>&- &
  WEBHOOK_CHILD=$!
  local health
  health=$(port_from_log "$BATS_FILE_TMPDIR/webhook.log" 0 "event=listening endpoint=health")
  wait_for 30 curl -sf "http://127.0.0.1:$health/readyz"
  PORT=$(port_from_log "$BATS_FILE_TMPDIR/webhook.log" 0 "event=serving")
  local signalled=$(date +%s%N)
  kill -TERM "$WEBHOOK_CHILD"
  # Not ready at once (well within the delay), on the health port and on the serving port.
  wait_for 3 bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$health/readyz) == 503 ]]"
  [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" \
    "https://127.0.0.1:$PORT/readyz") == 503 ]]
  # New connections are still answered until the delay has nearly passed.
  local answered=0 code
  while (( ($(date +%s%N) - signalled) / 1000000 < (delay - 2) * 1000 )); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$PKI/ca.crt" \
      -H 'Content-Type: application/json' --data-binary "@$BATS_FILE_TMPDIR/review.json" \
      "https://127.0.0.1:$PORT/validate-metallb-io-v1beta1-community")
    [[ $code == 200 ]]
    answered=$((answered + 1))
  done
  local rc=0
  wait "$WEBHOOK_CHILD" || rc=$?
  local exited_ms=$(( ($(date +%s%N) - signalled) / 1000000 ))
  WEBHOOK_CHILD=
  echo "# $answered requests answered during the delay; exit $rc after $exited_ms ms" >&3
  ((answered >= 2))
  ((rc == 0))
  ((exited_ms >= delay * 1000))
  ((exited_ms < (delay + DRAIN_LIMIT) * 1000))
  grep -q "event=draining signal=15 shutdown_delay_s=$delay" "$BATS_FILE_TMPDIR/webhook.log"
}
