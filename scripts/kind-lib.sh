# shellcheck shell=bash
# Shared by the kind scripts: the pinned kind binary, kubectl and helm on PATH, release settings.
# Source it after lib.sh.

# shellcheck disable=SC2034  # used by the scripts that source this file
RELEASE="${RELEASE:-mlstack}"
NAMESPACE="${NAMESPACE:-mlstack}"
KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-mlstack}"
KUBE_CONTEXT="kind-${KIND_CLUSTER_NAME}"
STATE_DIR="${REPO_ROOT}/.state/kind"
# shellcheck disable=SC2034
CHART="${REPO_ROOT}/charts/mlstack"

# kind_tools: kind (pinned, go install), helm (install-tools.sh) and a kubectl.
kind_tools() {
  go_install kind sigs.k8s.io/kind "${KIND_VERSION}"
  "${REPO_ROOT}/scripts/install-tools.sh" >/dev/null
  if ! command -v kubectl >/dev/null; then
    log "no kubectl on PATH: building the pinned one (scripts/install-kube.sh)"
    PATH="$("${REPO_ROOT}/scripts/install-kube.sh" | tail -n 1):${PATH}"
    export PATH
  fi
  mkdir -p "${STATE_DIR}"
}

kctl() { kubectl --context "${KUBE_CONTEXT}" -n "${NAMESPACE}" "$@"; }
hlm() { helm --kube-context "${KUBE_CONTEXT}" -n "${NAMESPACE}" "$@"; }

# Host ports of the port-forwards (MLSTACK_API_PORT, MLSTACK_MLFLOW_PORT).
api_port() { printf '%s\n' "${MLSTACK_API_PORT:-8080}"; }
mlflow_port() { printf '%s\n' "${MLSTACK_MLFLOW_PORT:-5000}"; }
