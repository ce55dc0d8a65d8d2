#!/usr/bin/env bash
# `make e2e`: the whole user journey on kind, end to end. Cluster, images built and loaded, helm
# install --wait (the bootstrap run trains the first model), helm test, a trainer Job from the
# CronJob, a prediction through the port-forward; then the HPA scaling the API under load with each
# new pod Ready only once it has loaded the model; a promotion every replica follows; a helm upgrade
# with a changed value that loses no run or version; uninstall keeping the data volumes.
# On failure the cluster's logs are exported (kind export logs) to ARTIFACTS (default .state/kind/logs).
# KEEP_CLUSTER=1 leaves the cluster up afterwards.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

ARTIFACTS="${ARTIFACTS:-${STATE_DIR}/logs}"

on_exit() {
  local rc=$?
  if [ "${rc}" -ne 0 ] && [ "${rc}" -ne 3 ]; then
    log "e2e failed (exit ${rc}); exporting cluster logs to ${ARTIFACTS}"
    mkdir -p "${ARTIFACTS}"
    kind export logs --name "${KIND_CLUSTER_NAME}" "${ARTIFACTS}" >/dev/null 2>&1 || true
    kctl get all,pvc,events -o wide >"${ARTIFACTS}/namespace.txt" 2>&1 || true
  fi
  "${REPO_ROOT}/scripts/port-forward.sh" --stop >/dev/null 2>&1 || true
  [ "${KEEP_CLUSTER:-0}" = 1 ] || [ "${rc}" -eq 3 ] || "${REPO_ROOT}/scripts/kind-down.sh" || true
}

step() { log "== $*"; }

# mlflow_api METHOD PATH [JSON]: MLflow's REST API through the port-forward.
mlflow_api() {
  local method="$1" path="$2" body="${3:-}"
  curl -fsS -X "${method}" "http://localhost:$(mlflow_port)/api/2.0/mlflow/${path}" \
    -H 'Content-Type: application/json' ${body:+-d "${body}"}
}

# registry_snapshot MODEL: the sorted registered versions and the number of runs in every
# experiment, one line, to compare before and after an upgrade.
registry_snapshot() {
  python3 - "http://localhost:$(mlflow_port)/api/2.0/mlflow" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
base, model = sys.argv[1], sys.argv[2]
def call(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/{path}", data, {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))
versions = call("model-versions/search?" + urllib.parse.urlencode({"filter": f"name='{model}'"}))["model_versions"]
experiments = [e["experiment_id"] for e in call("experiments/search?max_results=1000")["experiments"]]
runs = call("runs/search", {"experiment_ids": experiments, "max_results": 1000}).get("runs", [])
print(sorted(int(v["version"]) for v in versions), len(runs))
PY
}

# Each Ready API pod answers /readyz with the version it serves; print "pod version" lines.
replica_versions() {
  local pod
  for pod in $(kctl get pods -l app.kubernetes.io/name=api,app.kubernetes.io/instance="${RELEASE}" \
      -o jsonpath='{range .items[?(@.status.containerStatuses[0].ready==true)]}{.metadata.name}{"\n"}{end}'); do
    printf '%s %s\n' "${pod}" "$(kctl exec "${pod}" -- python -c \
      'import json,urllib.request; print(json.load(urllib.request.urlopen("http://127.0.0.1:8080/v1/model"))["version"])')"
  done
}

wait_until() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    [ "${SECONDS}" -lt "${deadline}" ] || die "timed out after ${timeout}s: ${what}"
    sleep 5
  done
}

hpa_scaled_up() {
  local current
  current="$(kctl get hpa "${RELEASE}-api" -o jsonpath='{.status.currentReplicas}')"
  [ "${current:-0}" -gt "${MIN_REPLICAS}" ]
}

all_ready_replicas_serve() {
  local want="$1" lines
  lines="$(replica_versions)"
  [ -n "${lines}" ] && ! grep -qv " ${want}$" <<<"${lines}"
}

main() {
  trap on_exit EXIT
  kind_tools
  step "cluster";          "${REPO_ROOT}/scripts/kind-up.sh"
  step "images";           "${REPO_ROOT}/scripts/build-images.sh"
  step "load images";      "${REPO_ROOT}/scripts/kind-load.sh"
  step "install";          "${REPO_ROOT}/scripts/deploy.sh"
  step "helm test";        hlm test "${RELEASE}" --logs
  step "train from the CronJob"; JOB=train-1 "${REPO_ROOT}/scripts/train.sh"
  step "port-forward";     "${REPO_ROOT}/scripts/port-forward.sh"
  step "smoke";            "${REPO_ROOT}/scripts/smoke.sh"

  step "every Ready API pod has the model loaded"
  replica_versions | tee "${STATE_DIR}/versions-before.txt"
  [ -s "${STATE_DIR}/versions-before.txt" ] || die "no Ready API pod"

  step "HPA scales the API under load"
  MIN_REPLICAS="$(kctl get hpa "${RELEASE}-api" -o jsonpath='{.spec.minReplicas}')"
  kctl delete job load --ignore-not-found >/dev/null
  kctl create job load --image="mlstack/api:$(project_version)" -- python -c "
import json, threading, time, urllib.request
body = json.dumps({'inputs': {'sepal length (cm)': 5.1, 'sepal width (cm)': 3.5, 'petal length (cm)': 1.4, 'petal width (cm)': 0.2}}).encode()
def hammer():
    end = time.time() + 240
    while time.time() < end:
        try:
            urllib.request.urlopen(urllib.request.Request('http://${RELEASE}-api:8080/v1/predict', body, {'Content-Type': 'application/json'}), timeout=5).read()
        except Exception:
            time.sleep(0.1)
threads = [threading.Thread(target=hammer) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
"
  wait_until "the HPA to add API replicas" 300 hpa_scaled_up
  kctl rollout status "deployment/${RELEASE}-api" --timeout=300s
  local version
  version="$(head -n 1 "${STATE_DIR}/versions-before.txt" | cut -d' ' -f2)"
  wait_until "every new replica to load version ${version}" 180 all_ready_replicas_serve "${version}"
  replica_versions
  kctl delete job load --wait=false >/dev/null

  step "promotion: every replica follows the alias"
  local model_name target snapshot
  model_name="$(kctl get deployment "${RELEASE}-api" \
    -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="MLSTACK_MODEL_NAME")].value}')"
  snapshot="$(registry_snapshot "${model_name}")"
  # Any registered version other than the one served (bootstrap and train-1 registered two).
  target="$(python3 -c 'import ast,sys; vs=ast.literal_eval(sys.argv[1].rsplit(" ",1)[0]); print(next(v for v in vs if str(v)!=sys.argv[2]))' \
    "${snapshot}" "${version}")" || die "only one registered version (${snapshot}): nothing to promote"
  mlflow_api POST registered-models/alias \
    "{\"name\": \"${model_name}\", \"alias\": \"production\", \"version\": \"${target}\"}" >/dev/null
  wait_until "every replica to serve version ${target}" 120 all_ready_replicas_serve "${target}"
  replica_versions

  step "helm upgrade with a changed value loses nothing"
  snapshot="$(registry_snapshot "${model_name}")"
  "${REPO_ROOT}/scripts/port-forward.sh" --stop
  "${REPO_ROOT}/scripts/deploy.sh" --set api.refreshSeconds=3
  "${REPO_ROOT}/scripts/port-forward.sh"
  [ "$(registry_snapshot "${model_name}")" = "${snapshot}" ] \
    || die "registered versions or runs changed across the upgrade: ${snapshot} -> $(registry_snapshot "${model_name}")"
  all_ready_replicas_serve "${target}" || die "after the upgrade, API pods serve another version than ${target}"
  "${REPO_ROOT}/scripts/smoke.sh"

  step "uninstall keeps the data volumes"
  "${REPO_ROOT}/scripts/port-forward.sh" --stop
  hlm uninstall "${RELEASE}" --wait
  kctl get pvc
  [ "$(kctl get pvc -o name | wc -l)" -ge 2 ] || die "the Postgres and MinIO volumes should be retained"
  log "e2e passed"
}

main "$@"
