#!/usr/bin/env bash
# `make kind-load`: copy the three mlstack images (built by `make images`) into every kind node, so
# pods start without a registry (the kind profile uses imagePullPolicy IfNotPresent).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

main() {
  kind_tools
  local version name
  version="$(project_version)"
  for name in mlflow api trainer; do
    docker image inspect "mlstack/${name}:${version}" >/dev/null 2>&1 \
      || die "image mlstack/${name}:${version} is not built: run make images"
    log "loading mlstack/${name}:${version} into kind cluster ${KIND_CLUSTER_NAME}"
    kind load docker-image --name "${KIND_CLUSTER_NAME}" "mlstack/${name}:${version}"
  done
}

main "$@"
