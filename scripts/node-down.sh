#!/usr/bin/env bash
# `make node-down`: take down what scripts/node-up.sh started, then the control plane
# (scripts/cluster-down.sh). Pods are deleted through the API first so the kubelet tears their
# sandboxes down (network namespaces, veths, mounts); whatever is left is killed through the node's
# own containerd socket. Then the node's mounts, kube-proxy's rules, the bridge and the address on lo
# go. Only this node's processes are touched (pid files and its containerd socket). Safe to run twice.
# --node-only leaves the control plane up (cluster-down.sh uses it).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/cluster-lib.sh"
source "${REPO_ROOT}/scripts/node-lib.sh"

running() {
  local pidfile="${CLUSTER_DIR}/pids/$1.pid"
  [ -f "${pidfile}" ] && kill -0 "$(cat "${pidfile}")" 2>/dev/null
}

# drain_pods: no new pods on the node, every pod deleted, and wait (30s at most) for the kubelet to
# stop their containers.
drain_pods() {
  if ! running kubelet || ! running kube-apiserver; then
    return 0
  fi
  local kc=(--kubeconfig "${CLUSTER_DIR}/kubeconfig" --request-timeout=10s)
  kubectl "${kc[@]}" cordon "${NODE_NAME}" >/dev/null 2>&1 || return 0
  kubectl "${kc[@]}" delete pods --all --all-namespaces --grace-period=5 --wait=false >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 30))
  while [ ${SECONDS} -lt ${deadline} ]; do
    ctr_node tasks ls 2>/dev/null | grep -q RUNNING || break
    sleep 1
  done
}

# kill_leftovers: tasks still known to the node's containerd are killed and deleted; their network
# namespaces are remembered in NETNS for unmounting.
NETNS=()
kill_leftovers() {
  running containerd || return 0
  local id ns
  for id in $(ctr_node containers ls -q 2>/dev/null); do
    ns="$(ctr_node containers info "${id}" 2>/dev/null | python3 -c '
import json, sys
spec = json.load(sys.stdin).get("Spec") or {}
for n in (spec.get("linux") or {}).get("namespaces") or []:
    if n.get("type") == "network" and n.get("path"):
        print(n["path"])' || true)"
    [ -n "${ns}" ] && NETNS+=("${ns}")
    ctr_node tasks kill -s SIGKILL "${id}" >/dev/null 2>&1 || true
    ctr_node tasks delete -f "${id}" >/dev/null 2>&1 || true
    ctr_node containers delete "${id}" >/dev/null 2>&1 || true
  done
}

# kill_shims: runc shims outlive containerd; only those started for this node's socket.
kill_shims() {
  local pid
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address ${CONTAINERD_SOCK}( |\$)" || true); do
    kill -KILL "${pid}" 2>/dev/null || true
  done
}

# unmount_node: network namespaces of this node's pods and every mount under its state dir,
# deepest first.
unmount_node() {
  local path mounts=()
  for path in "${NETNS[@]}"; do
    umount "${path}" 2>/dev/null || true
    rm -f "${path}"
  done
  mapfile -t mounts < <(awk -v d="${NODE_DIR}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  for path in "${mounts[@]}"; do
    umount "${path}" 2>/dev/null || umount -l "${path}" 2>/dev/null || true
  done
  if awk -v d="${NODE_DIR}/" 'index($5, d) == 1 {found = 1} END {exit !found}' /proc/self/mountinfo; then
    die "mounts are left under ${NODE_DIR}; not removing it (see /proc/self/mountinfo)"
  fi
}

# kubelet_rules_down: the chains the kubelet itself adds (a canary, a hint, and KUBE-FIREWALL that
# drops non-loopback traffic to 127.0.0.0/8), in both address families.
kubelet_rules_down() {
  local ipt table chain
  for ipt in iptables ip6tables; do
    command -v "${ipt}" >/dev/null || continue
    while "${ipt}" -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    while "${ipt}" -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    for table in filter nat mangle; do
      for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
        "${ipt}" -t "${table}" -F "${chain}" 2>/dev/null || continue
        "${ipt}" -t "${table}" -X "${chain}" 2>/dev/null || true
      done
    done
  done
}

host_network_down() {
  local kube_bin
  if [ -f "${NODE_DIR}/kube-proxy.yaml" ] && kube_bin="$("${REPO_ROOT}/scripts/install-kube.sh" 2>/dev/null)"; then
    "${kube_bin}/kube-proxy" --cleanup >/dev/null 2>&1 || log "kube-proxy --cleanup failed"
  fi
  kubelet_rules_down
  while iptables -D FORWARD -j "${FORWARD_CHAIN}" 2>/dev/null; do :; done
  iptables -F "${FORWARD_CHAIN}" 2>/dev/null && iptables -X "${FORWARD_CHAIN}"
  ip link show "${BRIDGE}" >/dev/null 2>&1 && ip link del "${BRIDGE}"
  ip -4 addr show dev lo | grep -q " ${NODE_IP}/32 " && ip addr del "${NODE_IP}/32" dev lo
  if [ -f "${NODE_OWNER_FILE}" ] && [ "$(cat "${NODE_OWNER_FILE}")" = "${CLUSTER_DIR}" ]; then
    rm -f "${NODE_OWNER_FILE}"
  fi
}

main() {
  if [ -d "${NODE_DIR}" ]; then
    drain_pods
    stop kube-proxy
    stop kubelet
    kill_leftovers
    stop containerd
    kill_shims
    unmount_node
    host_network_down
    restore_sysctls "${NODE_DIR}/sysctl.saved"
    rm -rf "${NODE_DIR}"
  fi
  [ "${1:-}" = --node-only ] || "${REPO_ROOT}/scripts/cluster-down.sh"
}

main "$@"
