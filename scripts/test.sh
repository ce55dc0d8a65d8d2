#!/usr/bin/env bash
# `make test`: install everything the suite needs (pinned, idempotent, quick when warm), lint,
# then run every test tier in one pytest session that reports the time each tier took.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

# Installers in the order the tiers need them; each is a no-op when its pins are already built.
INSTALLERS=(
  scripts/install-python.sh    # project virtualenv from constraints.txt
  scripts/install-services.sh  # Postgres (Debian) and MinIO + mc (Go modules) for integration tests
  scripts/install-kube.sh      # kube-apiserver & co, kubelet, kube-proxy, etcd, kwok (Go modules): cluster, node tiers
  scripts/install-node.sh      # containerd, runc, CNI (Debian); pause, CoreDNS, metrics-server images: node tier
  scripts/install-tools.sh     # helm, kubeconform, kube-score (Go modules) for the chart tier
)

main() {
  local started=${SECONDS} step
  for step in "${INSTALLERS[@]}"; do
    local t0=${SECONDS}
    "${step}"
    log "$(basename "${step}") took $((SECONDS - t0))s"
  done
  # shellcheck disable=SC1091
  source "${REPO_ROOT}/.venv/bin/activate"
  scripts/lint.sh
  log "installs and lint took $((SECONDS - started))s; running the tiers"
  local rc=0
  python -m pytest "$@" || rc=$?
  log "make test took $((SECONDS - started))s in all (exit ${rc})"
  return "${rc}"
}

main "$@"
