#!/usr/bin/env bash
# `make kind-down`: stop port-forwards and delete the kind cluster.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

main() {
  kind_tools
  "${REPO_ROOT}/scripts/port-forward.sh" --stop || true
  kind delete cluster --name "${KIND_CLUSTER_NAME}"
}

main "$@"
