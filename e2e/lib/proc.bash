# Processes, waits and ports for the e2e scripts and suites (sourced; defines functions
# only). Every process is started by these and stopped by its pid, never by name.
#
#   spawn LOG CMD...           start CMD detached (own session, no descriptor of ours
#                              beyond 0-2: bats waits for its fd 3 to close), output
#                              appended to LOG; prints its pid
#   pid_is PID EXE             PID is alive and runs EXE (a reused pid is not ours)
#   stop_pid PID [EXE] [SECONDS]  TERM, up to SECONDS (default 20), then KILL; with EXE
#                              only when pid_is PID EXE
#   wait_for SECONDS CMD...    until CMD succeeds (every 0.1 s); says what on a timeout
#   log_offset LOG             the size of LOG now (where a process started later begins)
#   port_from_log LOG OFFSET EVENT [SECONDS]
#                              the port a process chose itself (flag value 0) and logged,
#                              from the first line after OFFSET holding EVENT (e.g.
#                              "event=listening endpoint=health") and port=N
#   free_port [TAKEN...]       a loopback port nobody listens on and not among TAKEN
#                              (the ports picked for the same start), for the programs
#                              that cannot choose their own: kube-apiserver's
#                              --secure-port=0 turns HTTPS off, and etcd's advertised URLs
#                              need the port before it starts

spawn() {
  local logfile=$1; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  echo $!
}

pid_is() {
  local pid=$1 exe=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$exe")"* ]]
}

stop_pid() {
  local pid=$1 exe=${2:-} wait_s=${3:-20} i
  [[ -n $pid ]] || return 0
  if [[ -n $exe ]]; then pid_is "$pid" "$exe" || return 0; fi
  kill -TERM "$pid" 2>/dev/null || return 0
  for (( i = 0; i < wait_s * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "pid $pid${exe:+ ($(basename "$exe"))} ignored TERM for ${wait_s} s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid" 2>/dev/null || true
}

wait_for() {
  local seconds=$1 deadline; shift
  deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s%N) >= deadline )); then
      echo "timed out after ${seconds} s waiting for: $*" >&2
      return 1
    fi
    sleep 0.1
  done
}

log_offset() { stat -c %s "$1" 2>/dev/null || echo 0; }

port_from_log() {
  local logfile=$1 offset=$2 event=$3 seconds=${4:-30} deadline port
  deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  while :; do
    port=$(tail -c +"$(( offset + 1 ))" "$logfile" 2>/dev/null | grep -F -- "$event" |
      sed -n 's/.* port=\([0-9][0-9]*\).*/\1/p' | head -n1)
    [[ -n $port ]] && { echo "$port"; return 0; }
    if (( $(date +%s%N) >= deadline )); then
      echo "no '$event ... port=N' in $logfile after ${seconds} s" >&2
      return 1
    fi
    sleep 0.1
  done
}

free_port() {
  local taken=" $* " p _
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    [[ $taken == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "free_port: no free port found" >&2
  return 1
}
