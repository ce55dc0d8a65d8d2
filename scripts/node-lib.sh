# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by scripts/install-node.sh, node-up.sh, node-load.sh and node-down.sh (source after lib.sh):
# where the real node keeps its state, its fixed addresses and its local image names.

# Image references of the three images scripts/install-node.sh builds (never pulled: no registry).
PAUSE_IMAGE="mlstack.local/pause:1"
COREDNS_IMAGE="mlstack.local/coredns:${COREDNS_VERSION}"
METRICS_SERVER_IMAGE="mlstack.local/metrics-server:${METRICS_SERVER_VERSION}"

CLUSTER_DIR="${MLSTACK_CLUSTER_DIR:-${REPO_ROOT}/.state/cluster}"
NODE_DIR="${CLUSTER_DIR}/node"
NODE_NAME="${MLSTACK_NODE_NAME:-mlstack-node}"
# The node's address: a private /32 that node-up.sh adds to `lo` on this machine (kubelet, the
# apiserver and pods reach each other on it; nothing leaves the machine).
NODE_IP="${MLSTACK_NODE_IP:-10.254.0.1}"
# Pods live on a bridge this machine creates; Services are virtual (kube-proxy's iptables rules).
POD_CIDR="${MLSTACK_POD_CIDR:-10.244.0.0/24}"
POD_GATEWAY="${MLSTACK_POD_GATEWAY:-10.244.0.1}"
CLUSTER_DNS="10.96.0.10"
BRIDGE="mlstack0"
# iptables chain (jumped to first from FORWARD) that keeps pod traffic on the bridge.
FORWARD_CHAIN="MLSTACK-NODE-FORWARD"
CNI_BIN_DIR="/usr/lib/cni"
# One real node per machine (kube-proxy's iptables chains and the bridge are machine-wide): this file
# names the state dir of the node that is up.
NODE_OWNER_FILE="/run/mlstack-node.owner"
CONTAINERD_SOCK="${NODE_DIR}/containerd/containerd.sock"

# ctr_node ARGS...: containerd's own client against the node's containerd, in the CRI namespace.
ctr_node() {
  ctr --address "${CONTAINERD_SOCK}" --namespace k8s.io "$@"
}

# restore_sysctls FILE: write back the "name value" lines node-up.sh saved before the kubelet ran.
restore_sysctls() {
  [ -f "$1" ] || return 0
  local name value
  while read -r name value; do
    echo "${value}" >"/proc/sys/${name}"
  done <"$1"
}
