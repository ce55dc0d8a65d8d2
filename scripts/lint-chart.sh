#!/usr/bin/env bash
# Check the chart on every values profile under charts/mlstack/ci/: generated docs and schema are
# current, helm lint --strict, kubeconform in strict mode against the pinned Kubernetes schemas (no
# network), and kube-score with only the exceptions listed (and justified) in charts/mlstack/kube-score.ignore.
# The same checks run inside `make test` (tests/chart/test_profiles.py); this script is the quick
# stand-alone version. It installs the pinned tools first (quick when warm).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHART="${CHART:-${REPO_ROOT}/charts/mlstack}"
SCHEMAS="${MLSTACK_CACHE}/kube-schemas/${KUBERNETES_VERSION}-standalone-strict"

kube_score_ignores() {
  local id
  grep -v '^\s*\(#\|$\)' "${CHART}/kube-score.ignore" | while read -r id; do
    printf -- '--ignore-test=%s\n' "${id}"
  done
}

render() {
  helm template mlstack "${CHART}" --namespace mlstack --kube-version "${KUBERNETES_VERSION}" -f "$1"
}

lint_profile() {
  local values="$1"
  local ignores
  mapfile -t ignores < <(kube_score_ignores)
  log "profile $(basename "${values}")"
  helm lint --strict --quiet "${CHART}" -f "${values}" >/dev/null
  render "${values}" | kubeconform -strict -summary \
    -schema-location "${SCHEMAS}/{{ .ResourceKind }}{{ .KindSuffix }}.json" -
  render "${values}" | kube-score score "${ignores[@]}" --output-format ci --exit-one-on-warning - \
    | { grep -v '^\[\(OK\|SKIPPED\)\]' || true; }
}

main() {
  "${REPO_ROOT}/scripts/install-tools.sh"
  [ -f "${CHART}/Chart.yaml" ] || die "no chart at ${CHART}"
  activate_venv
  python "${REPO_ROOT}/scripts/gen-chart-docs.py" --check
  local profiles=("${CHART}"/ci/*-values.yaml)
  [ -f "${profiles[0]}" ] || die "no values profiles under ${CHART}/ci"
  local values
  for values in "${profiles[@]}"; do
    lint_profile "${values}"
  done
}

main "$@"
