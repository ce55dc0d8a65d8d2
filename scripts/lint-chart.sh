#!/usr/bin/env bash
# Check the chart on every values profile under charts/mlstack/ci/: helm lint --strict, kubeconform in
# strict mode against the pinned Kubernetes schemas (no network), and kube-score. Runs on its own:
# it installs the pinned tools first (quick when warm).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHART="${CHART:-${REPO_ROOT}/charts/mlstack}"
SCHEMAS="${MLSTACK_CACHE}/kube-schemas/${KUBERNETES_VERSION}-standalone-strict"

render() {
  helm template mlstack "${CHART}" --namespace mlstack -f "$1"
}

lint_profile() {
  local values="$1"
  log "profile $(basename "${values}")"
  helm lint --strict --quiet "${CHART}" -f "${values}" >/dev/null
  render "${values}" | kubeconform -strict -summary \
    -schema-location "${SCHEMAS}/{{ .ResourceKind }}{{ .KindSuffix }}.json" -
  render "${values}" | kube-score score --output-format ci --exit-one-on-warning -
}

main() {
  "${REPO_ROOT}/scripts/install-tools.sh"
  [ -f "${CHART}/Chart.yaml" ] || die "no chart at ${CHART}"
  local profiles=("${CHART}"/ci/*-values.yaml)
  [ -f "${profiles[0]}" ] || die "no values profiles under ${CHART}/ci"
  local values
  for values in "${profiles[@]}"; do
    lint_profile "${values}"
  done
}

main "$@"
