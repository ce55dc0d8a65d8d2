#!/usr/bin/env bash
# `make port-forward`: the API on localhost:MLSTACK_API_PORT (8080) and MLflow on
# localhost:MLSTACK_MLFLOW_PORT (5000), in the background; `--stop` ends them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

stop() {
  local pidfile
  for pidfile in "${STATE_DIR}"/port-forward-*.pid; do
    [ -f "${pidfile}" ] || continue
    kill "$(cat "${pidfile}")" 2>/dev/null || true
    rm -f "${pidfile}"
  done
}

forward() {
  local service="$1" local_port="$2" remote_port="$3"
  kctl port-forward "svc/${RELEASE}-${service}" "${local_port}:${remote_port}" \
    >"${STATE_DIR}/port-forward-${service}.log" 2>&1 &
  echo $! >"${STATE_DIR}/port-forward-${service}.pid"
  local _
  for _ in $(seq 30); do
    grep -q "Forwarding from" "${STATE_DIR}/port-forward-${service}.log" && return 0
    sleep 0.5
  done
  die "port-forward to ${service} did not start: $(cat "${STATE_DIR}/port-forward-${service}.log")"
}

main() {
  kind_tools
  stop
  [ "${1:-}" = --stop ] && return 0
  forward api "$(api_port)" 8080
  forward mlflow "$(mlflow_port)" 5000
  log "API on http://localhost:$(api_port), MLflow on http://localhost:$(mlflow_port) (stop: scripts/port-forward.sh --stop)"
}

main "$@"
