#!/usr/bin/env bash
# `make cluster-down`: stop the processes scripts/cluster-up.sh started (by their pid files only)
# and remove the cluster's state (a real node's first, through scripts/node-down.sh). Safe to run
# twice, or when nothing is up.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/cluster-lib.sh"

CLUSTER_DIR="${MLSTACK_CLUSTER_DIR:-${REPO_ROOT}/.state/cluster}"
# Stop order: the simulated nodes and controllers first, etcd last.
COMPONENTS=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

main() {
  local name
  # A real node (scripts/node-up.sh) goes first: its pods' mounts live under the state dir.
  if [ -d "${CLUSTER_DIR}/node" ]; then
    "${REPO_ROOT}/scripts/node-down.sh" --node-only
  fi
  for name in "${COMPONENTS[@]}"; do
    stop "${name}"
  done
  rm -rf "${CLUSTER_DIR}"
}

main "$@"
