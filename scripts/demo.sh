#!/usr/bin/env bash
# `make demo`: the whole flow on one machine with no cluster. Starts an MLflow tracking server
# (SQLite + local artifacts under .state/demo), trains and registers a model, lets the gate promote
# it, starts the serving API on the Production model and sends it a prediction. Ctrl-C stops
# everything it started. `--once` exits after the sample prediction.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_DIR="${MLSTACK_DEMO_STATE:-${REPO_ROOT}/.state/demo}"
MLFLOW_PORT="${MLSTACK_DEMO_MLFLOW_PORT:-5000}"
API_PORT="${MLSTACK_DEMO_API_PORT:-8080}"
DEMO_DATA="${MLSTACK_DEMO_DATA:-sklearn:iris}"
export MLSTACK_MODEL_NAME="${MLSTACK_MODEL_NAME:-iris-classifier}"
export MLFLOW_TRACKING_URI="http://127.0.0.1:${MLFLOW_PORT}"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill "${pid}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    wait "${pid}" 2>/dev/null || true
  done
  PIDS=()
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_http URL WHAT LOG PID: until URL answers 200; fail early if PID exits.
wait_http() {
  local url="$1" what="$2" log_file="$3" pid="$4" tries=0
  until curl -fs -o /dev/null "${url}"; do
    tries=$((tries + 1))
    if ! kill -0 "${pid}" 2>/dev/null; then
      tail -n 30 "${log_file}" >&2
      die "${what} exited before it answered (log: ${log_file})"
    fi
    if [ "${tries}" -gt 240 ]; then
      tail -n 30 "${log_file}" >&2
      die "${what} did not answer at ${url} within 120s (log: ${log_file})"
    fi
    sleep 0.5
  done
}

start_mlflow() {
  port_free "${MLFLOW_PORT}" ||
    die "port ${MLFLOW_PORT} is taken; set MLSTACK_DEMO_MLFLOW_PORT to a free port"
  mkdir -p "${STATE_DIR}/artifacts"
  log "starting MLflow on ${MLFLOW_TRACKING_URI} (state in ${STATE_DIR})"
  mlflow server \
    --host 127.0.0.1 --port "${MLFLOW_PORT}" \
    --backend-store-uri "sqlite:///${STATE_DIR}/mlflow.db" \
    --serve-artifacts --artifacts-destination "${STATE_DIR}/artifacts" \
    --workers 1 >"${STATE_DIR}/mlflow.log" 2>&1 &
  PIDS+=("$!")
  wait_http "${MLFLOW_TRACKING_URI}/health" "MLflow" "${STATE_DIR}/mlflow.log" "$!"
}

train() {
  log "training ${MLSTACK_MODEL_NAME} on ${DEMO_DATA}"
  python -m training --data "${DEMO_DATA}" --model-name "${MLSTACK_MODEL_NAME}" --log-level WARNING \
    2> >(grep -v -e '^Successfully registered' -e '^Created version' >&2)
}

start_api() {
  port_free "${API_PORT}" || die "port ${API_PORT} is taken; set MLSTACK_DEMO_API_PORT to a free port"
  log "starting the API on http://127.0.0.1:${API_PORT}"
  MLSTACK_WORKERS=1 MLSTACK_REFRESH_SECONDS=2 python -m api --host 127.0.0.1 --port "${API_PORT}" \
    >"${STATE_DIR}/api.log" 2>&1 &
  PIDS+=("$!")
  wait_http "http://127.0.0.1:${API_PORT}/readyz" "the API" "${STATE_DIR}/api.log" "$!"
}

sample_prediction() {
  if [ "${DEMO_DATA}" != "sklearn:iris" ]; then
    printf '\nGET /v1/model\n'
    curl -fsS "http://127.0.0.1:${API_PORT}/v1/model"
    printf '\n'
    return 0
  fi
  local body='{"inputs": {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}}'
  printf '\nPOST /v1/predict %s\n' "${body}"
  curl -fsS -H 'Content-Type: application/json' -d "${body}" "http://127.0.0.1:${API_PORT}/v1/predict"
  printf '\n'
}

main() {
  local once=false
  [ "${1:-}" = "--once" ] && once=true
  "${REPO_ROOT}/scripts/install-python.sh"
  activate_venv
  mkdir -p "${STATE_DIR}"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  start_mlflow
  train
  start_api
  sample_prediction
  printf '\nMLflow UI: %s\nAPI:       http://127.0.0.1:%s (docs at /docs, metrics at /metrics)\n' \
    "${MLFLOW_TRACKING_URI}" "${API_PORT}"
  if [ "${once}" = true ]; then
    return 0
  fi
  printf 'Running. Press Ctrl-C to stop.\n'
  wait
}

main "$@"
