# shellcheck shell=bash
# Shared by scripts/cluster-up.sh, cluster-down.sh, node-up.sh and node-down.sh (source after lib.sh,
# with CLUSTER_DIR set): the local cluster's processes are started in the background with a log and
# a pid file each, and stopped by their pid files only.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ARGS...: run a component in the background with its log and pid file.
start() {
  local name="$1"
  shift
  log "starting ${name}"
  setsid "$@" >"${CLUSTER_DIR}/logs/${name}.log" 2>&1 </dev/null &
  echo $! >"${CLUSTER_DIR}/pids/${name}.pid"
}

# wait_for WHAT SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ ${SECONDS} -lt ${deadline} ] || die "${what} not ready after ${timeout}s (logs in ${CLUSTER_DIR}/logs)"
    sleep 0.5
  done
}

# stop NAME: TERM the process in NAME's pid file, KILL it after 10s, forget the pid file.
stop() {
  local pidfile="${CLUSTER_DIR}/pids/$1.pid" pid _
  [ -f "${pidfile}" ] || return 0
  pid="$(cat "${pidfile}")"
  if kill -0 "${pid}" 2>/dev/null; then
    log "stopping $1 (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null
    log "stopped $1"
  fi
  rm -f "${pidfile}"
}

# show_component_logs: the last lines of every component log, for a failed start's report.
show_component_logs() {
  local f
  for f in "${CLUSTER_DIR}"/logs/*.log; do
    [ -f "${f}" ] || continue
    printf '==> %s <==\n' "${f}" >&2
    tail -n 20 "${f}" >&2
  done
}
