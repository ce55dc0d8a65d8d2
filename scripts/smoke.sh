#!/usr/bin/env bash
# `make smoke`: through the port-forward (started if needed), /readyz answers 200 and one iris
# prediction comes back with the model version that made it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

SAMPLE='{"inputs": {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}}'

main() {
  kind_tools
  local base
  base="http://localhost:$(api_port)"
  curl -fsS -o /dev/null "${base}/healthz" 2>/dev/null || "${REPO_ROOT}/scripts/port-forward.sh"
  log "GET ${base}/readyz"
  curl -fsS "${base}/readyz" || die "the API is not ready: $(curl -sS "${base}/readyz")"
  echo
  log "POST ${base}/v1/predict"
  local answer
  answer="$(curl -fsS -X POST "${base}/v1/predict" -H 'Content-Type: application/json' -d "${SAMPLE}")" \
    || die "prediction failed"
  echo "${answer}"
  grep -q '"model_version"' <<<"${answer}" || die "the answer names no model version"
}

main "$@"
