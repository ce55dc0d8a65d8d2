#!/usr/bin/env bash
# `make cluster-down`: stop the processes scripts/cluster-up.sh started (by their pid files only)
# and remove the cluster's state (a real node's first, through scripts/node-down.sh). Safe to run
# twice, or when nothing is up.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER_DIR="${MLSTACK_CLUSTER_DIR:-${REPO_ROOT}/.state/cluster}"
# Stop order: the simulated nodes and controllers first, etcd last.
COMPONENTS=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

# stop NAME: TERM the process in NAME's pid file, KILL it after 10s, forget the pid file.
stop() {
  local pidfile="${CLUSTER_DIR}/pids/$1.pid" pid i
  [ -f "${pidfile}" ] || return 0
  pid="$(cat "${pidfile}")"
  if kill -0 "${pid}" 2>/dev/null; then
    log "stopping $1 (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    for i in $(seq 1 40); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null
    log "stopped $1 after ${i} checks"
  fi
  rm -f "${pidfile}"
}

main() {
  local name
  # A real node (scripts/node-up.sh) goes first: its pods' mounts live under the state dir.
  if [ -d "${CLUSTER_DIR}/node" ]; then
    "${REPO_ROOT}/scripts/node-down.sh" --node-only
  fi
  for name in "${COMPONENTS[@]}"; do
    stop "${name}"
  done
  rm -rf "${CLUSTER_DIR}"
}

main "$@"
