#!/usr/bin/env bash
# `make kind-up`: a kind cluster from scripts/kind-config.yaml with metrics-server (for the HPA).
# Idempotent. Says plainly when Docker cannot run the privileged containers kind nodes need.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

# kind nodes are privileged containers; some Docker setups (rootless, gVisor, locked-down VMs) refuse
# them. Probe with an image already here (kind's node image, else any local one) before pulling.
check_privileged() {
  local image="${KIND_NODE_IMAGE}"
  if ! docker image inspect "${image}" >/dev/null 2>&1; then
    image="$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -n 1)"
    [ -n "${image}" ] || { docker pull "${KIND_NODE_IMAGE}" >/dev/null && image="${KIND_NODE_IMAGE}"; }
  fi
  local out
  if ! out="$(docker run --rm --privileged --user 0 --entrypoint /bin/true "${image}" 2>&1)"; then
    log "this Docker engine cannot run privileged containers, which kind needs for its nodes:"
    log "  ${out}"
    log "use a machine or CI runner with privileged Docker (e.g. GitHub's ubuntu-24.04), or test the"
    log "chart against the local control plane instead: make cluster-up (simulated nodes)"
    exit 3
  fi
}

install_metrics_server() {
  local url="https://github.com/kubernetes-sigs/metrics-server/releases/download/${METRICS_SERVER_VERSION}/components.yaml"
  log "installing metrics-server ${METRICS_SERVER_VERSION}"
  kubectl --context "${KUBE_CONTEXT}" apply -f "${url}" >/dev/null
  # kind's kubelets serve self-signed certificates.
  kubectl --context "${KUBE_CONTEXT}" -n kube-system patch deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' >/dev/null
  kubectl --context "${KUBE_CONTEXT}" -n kube-system rollout status deployment/metrics-server --timeout=180s
}

main() {
  command -v docker >/dev/null || die "kind needs Docker: install it (Debian: apt-get install docker.io)"
  docker info >/dev/null 2>&1 || die "Docker is installed but its daemon does not answer"
  kind_tools
  if kind get clusters 2>/dev/null | grep -qx "${KIND_CLUSTER_NAME}"; then
    log "kind cluster ${KIND_CLUSTER_NAME} exists"
  else
    check_privileged
    kind create cluster --name "${KIND_CLUSTER_NAME}" --image "${KIND_NODE_IMAGE}" \
      --config "${REPO_ROOT}/scripts/kind-config.yaml" --wait 180s
  fi
  install_metrics_server
  kubectl --context "${KUBE_CONTEXT}" get nodes
}

main "$@"
