#!/usr/bin/env bash
# `make deploy`: helm upgrade --install with the kind profile, waiting for every workload and Job
# (the bootstrap training run included) so the release ends Ready. Extra arguments go to helm,
# e.g. `scripts/deploy.sh --set api.refreshSeconds=2`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

main() {
  kind_tools
  log "helm upgrade --install ${RELEASE} (namespace ${NAMESPACE}, profile ci/kind-values.yaml)"
  hlm upgrade --install "${RELEASE}" "${CHART}" --create-namespace \
    -f "${CHART}/ci/kind-values.yaml" --wait --wait-for-jobs --timeout "${HELM_TIMEOUT:-10m}" "$@"
  kctl get pods -o wide
}

main "$@"
