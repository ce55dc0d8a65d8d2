#!/usr/bin/env bash
# `make cluster-up`: a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) with simulated nodes (kwok), all local processes bound to 127.0.0.1.
# MLSTACK_CLUSTER_NODES=0 starts no kwok nodes; MLSTACK_APISERVER_IP binds and advertises the apiserver
# on another address of this machine (scripts/node-up.sh: one that pods on a real node can reach).
# What is simulated: kwok marks pods Running/Ready without running containers, completes pods owned
# by Jobs and helm test pods (phase Succeeded, exit 0), and provisions PVCs with fake volumes.
# State (certs, etcd data, logs, pid files, kubeconfig) lives in MLSTACK_CLUSTER_DIR.
# Prints the kubeconfig path on stdout. `scripts/cluster-down.sh` stops it all.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/cluster-lib.sh"

CLUSTER_DIR="${MLSTACK_CLUSTER_DIR:-${REPO_ROOT}/.state/cluster}"
NODES="${MLSTACK_CLUSTER_NODES:-2}"
APISERVER_IP="${MLSTACK_APISERVER_IP:-127.0.0.1}"
KUBE_BIN=""
UP_OK=0

# gen_certs: a CA, the apiserver's serving cert, one admin client cert, the service-account key.
gen_certs() {
  local d="${CLUSTER_DIR}/pki"
  mkdir -p "${d}"
  (
    cd "${d}" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mlstack-local-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:${APISERVER_IP},IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      "extendedKeyUsage=serverAuth" >serving.ext
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile serving.ext -out apiserver.crt 2>/dev/null
    printf '%s\n' "extendedKeyUsage=clientAuth" >client.ext
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=mlstack-admin" -keyout admin.key -out admin.csr 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # The aggregation layer (metrics-server on a real node): the apiserver proxies with this client cert.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mlstack-front-proxy-ca" \
      -keyout front-proxy-ca.key -out front-proxy-ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=front-proxy-client" -keyout front-proxy-client.key \
      -out front-proxy-client.csr 2>/dev/null
    openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key \
      -CAcreateserial -days 3650 -extfile client.ext -out front-proxy-client.crt 2>/dev/null
  )
}

write_kubeconfig() {
  local d="${CLUSTER_DIR}/pki"
  cat >"${CLUSTER_DIR}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mlstack-local
  cluster:
    server: https://${APISERVER_IP}:${APISERVER_PORT}
    certificate-authority: ${d}/ca.crt
users:
- name: mlstack-admin
  user:
    client-certificate: ${d}/admin.crt
    client-key: ${d}/admin.key
contexts:
- name: mlstack-local
  context: {cluster: mlstack-local, user: mlstack-admin}
current-context: mlstack-local
EOF
}

start_etcd() {
  start etcd "${KUBE_BIN}/etcd" --name local --data-dir "${CLUSTER_DIR}/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "local=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --listen-metrics-urls "" --quota-backend-bytes 4294967296
  wait_for etcd 30 curl -fsS "http://127.0.0.1:${ETCD_PORT}/health"
}

start_apiserver() {
  local d="${CLUSTER_DIR}/pki" reconciler=lease
  # The `kubernetes` Service gets the advertised address as its endpoint; a loopback one is refused.
  [ "${APISERVER_IP}" = 127.0.0.1 ] && reconciler=none
  start kube-apiserver "${KUBE_BIN}/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
    --bind-address "${APISERVER_IP}" --advertise-address "${APISERVER_IP}" --secure-port "${APISERVER_PORT}" \
    --endpoint-reconciler-type "${reconciler}" \
    --tls-cert-file "${d}/apiserver.crt" --tls-private-key-file "${d}/apiserver.key" \
    --client-ca-file "${d}/ca.crt" \
    --kubelet-client-certificate "${d}/admin.crt" --kubelet-client-key "${d}/admin.key" \
    --requestheader-client-ca-file "${d}/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- --enable-aggregator-routing=true \
    --proxy-client-cert-file "${d}/front-proxy-client.crt" --proxy-client-key-file "${d}/front-proxy-client.key" \
    --service-account-key-file "${d}/sa.pub" --service-account-signing-key-file "${d}/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC --enable-priority-and-fairness=false \
    --kubelet-preferred-address-types InternalIP,Hostname
  wait_for kube-apiserver 90 kubectl --kubeconfig "${CLUSTER_DIR}/kubeconfig" get --raw /readyz
}

start_controllers() {
  local d="${CLUSTER_DIR}/pki" kc="${CLUSTER_DIR}/kubeconfig"
  start kube-controller-manager "${KUBE_BIN}/kube-controller-manager" \
    --kubeconfig "${kc}" --authentication-kubeconfig "${kc}" --authorization-kubeconfig "${kc}" \
    --bind-address 127.0.0.1 --secure-port "${KCM_PORT}" --leader-elect=false \
    --root-ca-file "${d}/ca.crt" --service-account-private-key-file "${d}/sa.key" \
    --cluster-signing-cert-file "${d}/ca.crt" --cluster-signing-key-file "${d}/ca.key" \
    --controllers '*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle'
  start kube-scheduler "${KUBE_BIN}/kube-scheduler" \
    --kubeconfig "${kc}" --authentication-kubeconfig "${kc}" --authorization-kubeconfig "${kc}" \
    --bind-address 127.0.0.1 --secure-port "${SCHED_PORT}" --leader-elect=false
}

# kwok_stages: kwok's own stage files for nodes, pods and volumes, plus one that completes helm
# test pods (kwok completes only Job-owned pods).
kwok_stages() {
  local s="${KUBE_BIN}/../stages"
  cat "${s}/node/fast/node-initialize.yaml"
  printf -- '---\n'
  cat "${s}/node/heartbeat/node-heartbeat.yaml"
  local f
  for f in pod-ready pod-complete pod-delete; do
    printf -- '---\n'
    cat "${s}/pod/fast/${f}.yaml"
  done
  printf -- '---\n'
  sed -e 's/name: pod-complete$/name: pod-complete-helm-test/' \
    -e "s/'.metadata.ownerReferences.\\[\\].kind'/'.metadata.annotations[\"helm.sh\\/hook\"]'/" \
    -e "s/^      - 'Job'\$/      - 'test'\\n      - 'test-success'/" "${s}/pod/fast/pod-complete.yaml"
  for f in pvc-provision pv-bind pv-delete pvc-delete; do
    printf -- '---\n'
    cat "${s}/volume/fast/${f}.yaml"
  done
}

start_kwok() {
  kwok_stages >"${CLUSTER_DIR}/kwok.yaml"
  start kwok "${KUBE_BIN}/kwok" --kubeconfig "${CLUSTER_DIR}/kubeconfig" \
    --config "${CLUSTER_DIR}/kwok.yaml" --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --server-address "127.0.0.1:${KWOK_PORT}" --node-ip 127.0.0.1
  kubectl apply -f "${KUBE_BIN}/../stages/volume/fast/storage-class.yaml" >/dev/null
  local i
  for i in $(seq 1 "${NODES}"); do
    kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${i}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-${i}, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 500Gi}
  capacity: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 500Gi}
EOF
  done
  wait_for "kwok nodes" 60 kubectl wait --for=condition=Ready node --all --timeout=2s
}

cleanup() {
  if [ "${UP_OK}" -ne 1 ]; then
    log "cluster-up failed; last lines of each component log:"
    show_component_logs
    "${REPO_ROOT}/scripts/cluster-down.sh" || true
  fi
}

main() {
  local t0=${SECONDS}
  KUBE_BIN="$("${REPO_ROOT}/scripts/install-kube.sh")"
  export PATH="${KUBE_BIN}:${PATH}"
  if [ -f "${CLUSTER_DIR}/kubeconfig" ] &&
    kubectl --kubeconfig "${CLUSTER_DIR}/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
    log "cluster already up"
    printf '%s\n' "${CLUSTER_DIR}/kubeconfig"
    return 0
  fi
  "${REPO_ROOT}/scripts/cluster-down.sh"
  trap cleanup EXIT
  mkdir -p "${CLUSTER_DIR}/logs" "${CLUSTER_DIR}/pids"
  ETCD_PORT="$(free_port)" ETCD_PEER_PORT="$(free_port)" APISERVER_PORT="$(free_port)"
  KCM_PORT="$(free_port)" SCHED_PORT="$(free_port)" KWOK_PORT="$(free_port)"
  export KUBECONFIG="${CLUSTER_DIR}/kubeconfig"
  gen_certs
  write_kubeconfig
  start_etcd
  start_apiserver
  start_controllers
  if [ "${NODES}" -gt 0 ]; then
    start_kwok
  fi
  wait_for "default service account" 60 kubectl -n default get serviceaccount default
  UP_OK=1
  log "cluster up in $((SECONDS - t0))s: export KUBECONFIG=${KUBECONFIG}"
  printf '%s\n' "${KUBECONFIG}"
}

main "$@"
