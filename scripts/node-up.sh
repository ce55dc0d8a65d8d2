#!/usr/bin/env bash
# `make node-up`: the local control plane (scripts/cluster-up.sh, no kwok nodes) plus one real node on
# this machine: containerd (its own root, state and socket; the system's containerd is left alone),
# runc, the bridge CNI plugin, kubelet and kube-proxy, CoreDNS and metrics-server as pods, a default StorageClass
# backed by hostPath volumes. Pods really run. Nothing is pulled: the pause and CoreDNS images come
# from scripts/install-node.sh, ours from `scripts/node-load.sh IMAGE...`.
# Needs root (an address on lo, iptables, mounts, cgroups). One real node per machine. Exits 3 where
# this machine cannot run a node (the reason is logged).
# State lives in MLSTACK_CLUSTER_DIR (node parts under node/). Prints the kubeconfig path on stdout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/cluster-lib.sh"
source "${REPO_ROOT}/scripts/node-lib.sh"

PV_COUNT="${MLSTACK_NODE_VOLUMES:-6}"
KUBE_BIN=""
NODE_CACHE=""
UP_OK=0

# refuse REASON: this machine cannot run a node; exit 3 so callers (the node tier) skip, not fail.
refuse() {
  log "error: $*"
  exit 3
}

# preflight: what this machine must allow, each refusal named.
preflight() {
  [ "$(id -u)" -eq 0 ] || refuse "a real node needs root (address on lo, iptables, mounts, cgroups)"
  [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
    refuse "no cgroup memory controller under /sys/fs/cgroup: the kubelet cannot place pods in cgroups"
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
    refuse "no br_netfilter (/proc/sys/net/bridge): Services between pods on the bridge cannot work"
  if [ -f "${NODE_OWNER_FILE}" ]; then
    local owner
    owner="$(cat "${NODE_OWNER_FILE}")"
    if [ "${owner}" != "${CLUSTER_DIR}" ] && [ -d "${owner}/node" ]; then
      if node_alive "${owner}"; then
        refuse "another real node is up (state in ${owner}); stop it with MLSTACK_CLUSTER_DIR=${owner} scripts/node-down.sh"
      fi
      # Its kubelet and containerd are gone (a killed test run): clear what it left behind.
      log "clearing the leftovers of a node that is no longer running (${owner})"
      MLSTACK_CLUSTER_DIR="${owner}" "${REPO_ROOT}/scripts/node-down.sh" >&2
    fi
  fi
}

# node_alive DIR: the kubelet or containerd of the node whose state is in DIR still runs (a killed
# one may linger as a zombie nobody reaps: that counts as gone).
node_alive() {
  local name pidfile
  for name in kubelet containerd; do
    pidfile="$1/pids/${name}.pid"
    [ -f "${pidfile}" ] || continue
    grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$(cat "${pidfile}")/status" && return 0
  done
  return 1
}

# host_network: the node address on lo, forwarding between the bridge and the host, and bridged
# traffic through iptables (kube-proxy's Service rules). All of it stays on this machine.
host_network() {
  ip -4 addr show dev lo | grep -q " ${NODE_IP}/32 " || ip addr add "${NODE_IP}/32" dev lo
  echo 1 >/proc/sys/net/ipv4/ip_forward
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  printf '%s\n' "${CLUSTER_DIR}" >"${NODE_OWNER_FILE}"
  # Forwarding between pods on the bridge (also through a Service's DNAT) is allowed even where
  # the FORWARD policy is DROP (Docker sets it); anything else a pod would send off the bridge, or
  # that would be forwarded into it, is dropped: pods talk only to each other and to this machine.
  iptables -N "${FORWARD_CHAIN}" 2>/dev/null || iptables -F "${FORWARD_CHAIN}"
  iptables -A "${FORWARD_CHAIN}" -i "${BRIDGE}" -o "${BRIDGE}" -j ACCEPT
  iptables -A "${FORWARD_CHAIN}" -i "${BRIDGE}" -j DROP
  iptables -A "${FORWARD_CHAIN}" -o "${BRIDGE}" -j DROP
  iptables -C FORWARD -j "${FORWARD_CHAIN}" 2>/dev/null || iptables -I FORWARD 1 -j "${FORWARD_CHAIN}"
}

# client_cert NAME CN ORG: a client certificate for a node component, signed by the cluster CA.
client_cert() {
  local name="$1" cn="$2" org="$3" pki="${CLUSTER_DIR}/pki"
  openssl req -newkey rsa:2048 -nodes -subj "/O=${org}/CN=${cn}" \
    -keyout "${NODE_DIR}/pki/${name}.key" -out "${NODE_DIR}/pki/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${NODE_DIR}/pki/${name}.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
    -CAcreateserial -days 3650 -extfile "${pki}/client.ext" -out "${NODE_DIR}/pki/${name}.crt" 2>/dev/null
}

# component_kubeconfig NAME: a kubeconfig for NAME's client certificate.
component_kubeconfig() {
  local name="$1" server
  server="$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')"
  cat >"${NODE_DIR}/${name}.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mlstack-local
  cluster: {server: "${server}", certificate-authority: "${CLUSTER_DIR}/pki/ca.crt"}
users:
- name: ${name}
  user: {client-certificate: "${NODE_DIR}/pki/${name}.crt", client-key: "${NODE_DIR}/pki/${name}.key"}
contexts:
- name: ${name}
  context: {cluster: mlstack-local, user: ${name}}
current-context: ${name}
EOF
}

start_containerd() {
  local d="${NODE_DIR}/containerd"
  mkdir -p "${d}" "${NODE_DIR}/cni/net.d" "${NODE_DIR}/cni/ipam"
  # restrict_oom_score_adj: this machine withholds CAP_SYS_RESOURCE, so runc may only raise a
  # container's oom_score_adj. disable_apparmor: no profile loader here. Shims, runc and the pods'
  # network namespaces keep their state under this node's dirs (the system containerd, if any, uses
  # other sockets and roots).
  cat >"${d}/config.toml" <<EOF
version = 2
root = "${d}/root"
state = "${d}/state"
[grpc]
  address = "${CONTAINERD_SOCK}"
[ttrpc]
  address = "${CONTAINERD_SOCK}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "$(command -v runc)"
  Root = "${NODE_DIR}/runc"
  SystemdCgroup = false
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${NODE_DIR}/cni/net.d"
EOF
  # Pods on one bridge with addresses from POD_CIDR; nothing masqueraded (no traffic leaves).
  cat >"${NODE_DIR}/cni/net.d/10-mlstack.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mlstack",
  "plugins": [
    {
      "type": "bridge", "bridge": "${BRIDGE}", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "${NODE_DIR}/cni/ipam",
        "ranges": [[{"subnet": "${POD_CIDR}", "gateway": "${POD_GATEWAY}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  start containerd containerd --config "${d}/config.toml"
  wait_for containerd 30 ctr_node version
  local archive
  for archive in pause coredns metrics-server; do
    ctr_node images import "${NODE_CACHE}/images/${archive}.tar" >/dev/null
  done
  log "imported ${PAUSE_IMAGE}, ${COREDNS_IMAGE} and ${METRICS_SERVER_IMAGE}"
}

start_kubelet() {
  local k="${NODE_DIR}/kubelet"
  mkdir -p "${k}/root" "${k}/pod-logs"
  # No host name servers in pods: cluster DNS only (nothing resolves, or goes, off the machine).
  : >"${k}/resolv.conf"
  cat >"${k}/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: $(free_port)
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(free_port)
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "${CLUSTER_DIR}/pki/ca.crt"}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://${CONTAINERD_SOCK}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [${CLUSTER_DNS}]
clusterDomain: cluster.local
resolvConf: "${k}/resolv.conf"
podLogsDir: "${k}/pod-logs"
# A shared machine: evict and collect images only when the disk is really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
EOF
  # The kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops once, when it
  # starts (protectKernelDefaults would refuse to start instead); this machine gets its own back.
  local t
  for t in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
    printf '%s %s\n' "${t}" "$(cat "/proc/sys/${t}")"
  done >"${NODE_DIR}/sysctl.saved"
  start kubelet "${KUBE_BIN}/kubelet" --config "${k}/config.yaml" \
    --kubeconfig "${NODE_DIR}/kubelet.kubeconfig" --root-dir "${k}/root" \
    --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}"
  wait_for "node ${NODE_NAME}" 120 kubectl wait --for=condition=Ready "node/${NODE_NAME}" --timeout=2s
  restore_sysctls "${NODE_DIR}/sysctl.saved"
}

start_kube_proxy() {
  cat >"${NODE_DIR}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "${NODE_DIR}/kube-proxy.kubeconfig"}
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
nodePortAddresses: ["${NODE_IP}/32"]
metricsBindAddress: 127.0.0.1:$(free_port)
healthzBindAddress: 127.0.0.1:$(free_port)
# Leave the machine's conntrack limits and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy "${KUBE_BIN}/kube-proxy" --config "${NODE_DIR}/kube-proxy.yaml"
  # Service rules are in place once kube-proxy has synced the `kubernetes` Service.
  wait_for "kube-proxy rules" 60 service_rules_synced
}

service_rules_synced() {
  iptables -t nat -S KUBE-SERVICES 2>/dev/null | grep -q 'default/kubernetes:https cluster IP'
}

# cluster_dns: CoreDNS answering cluster.local from the API on the well-known Service address.
cluster_dns() {
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:1053 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      priorityClassName: system-cluster-critical
      securityContext: {runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: coredns
        image: ${COREDNS_IMAGE}
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 1053, protocol: UDP}
        - {name: dns-tcp, containerPort: 1053, protocol: TCP}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10}
        resources: {requests: {cpu: 50m, memory: 32Mi}, limits: {memory: 128Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: ${CLUSTER_DNS}
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, targetPort: 1053, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 1053, protocol: TCP}
EOF
  kubectl -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null ||
    die "CoreDNS did not become ready: $(kubectl -n kube-system describe pods -l k8s-app=kube-dns | tail -n 20)"
}

# metrics_server: the resource metrics API (metrics.k8s.io) the HPA reads, served by metrics-server
# behind the apiserver's aggregation layer. It scrapes the kubelet with a client certificate of the
# cluster CA (the kubelet's own serving certificate is self-signed, hence --kubelet-insecure-tls).
metrics_server() {
  client_cert metrics-server metrics-server mlstack:metrics-server
  kubectl -n kube-system create secret tls metrics-server-kubelet-client \
    --cert "${NODE_DIR}/pki/metrics-server.crt" --key "${NODE_DIR}/pki/metrics-server.key" >/dev/null
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-server, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server"}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:metrics-server"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:metrics-server"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "metrics-server:system:auth-delegator"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-server-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  selector: {k8s-app: metrics-server}
  ports: [{name: https, port: 443, targetPort: https, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: metrics-server}}
  template:
    metadata: {labels: {k8s-app: metrics-server}}
    spec:
      serviceAccountName: metrics-server
      priorityClassName: system-cluster-critical
      securityContext: {runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: metrics-server
        image: ${METRICS_SERVER_IMAGE}
        imagePullPolicy: Never
        args:
        - --cert-dir=/tmp
        - --secure-port=10250
        - --kubelet-preferred-address-types=InternalIP
        - --kubelet-use-node-status-port
        - --kubelet-insecure-tls
        - --kubelet-client-certificate=/etc/kubelet-client/tls.crt
        - --kubelet-client-key=/etc/kubelet-client/tls.key
        - --metric-resolution=15s
        ports: [{name: https, containerPort: 10250, protocol: TCP}]
        readinessProbe: {httpGet: {path: /readyz, port: https, scheme: HTTPS}, periodSeconds: 5}
        resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 256Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts:
        - {name: tmp, mountPath: /tmp}
        - {name: kubelet-client, mountPath: /etc/kubelet-client, readOnly: true}
      volumes:
      - {name: tmp, emptyDir: {}}
      - {name: kubelet-client, secret: {secretName: metrics-server-kubelet-client}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
  kubectl -n kube-system rollout status deployment/metrics-server --timeout=120s >/dev/null ||
    die "metrics-server did not become ready: $(kubectl -n kube-system logs deploy/metrics-server --tail=20 2>&1)"
}

# storage: a default StorageClass whose claims bind to hostPath volumes under the node's state dir
# (world-writable with the sticky bit, so any pod UID can create its own data directory in one).
storage() {
  local i manifest
  manifest="apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-hostpath
  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: Immediate"
  for i in $(seq 1 "${PV_COUNT}"); do
    mkdir -p "${NODE_DIR}/volumes/pv-${i}"
    chmod 1777 "${NODE_DIR}/volumes/pv-${i}"
    manifest+="
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: ${NODE_NAME}-pv-${i}}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-hostpath
  hostPath: {path: \"${NODE_DIR}/volumes/pv-${i}\", type: Directory}"
  done
  kubectl apply -f - >/dev/null <<<"${manifest}"
}

cleanup() {
  if [ "${UP_OK}" -ne 1 ]; then
    log "node-up failed; last lines of each component log:"
    show_component_logs
    "${REPO_ROOT}/scripts/node-down.sh" || true
  fi
}

main() {
  local t0=${SECONDS}
  preflight
  KUBE_BIN="$("${REPO_ROOT}/scripts/install-kube.sh")"
  NODE_CACHE="$("${REPO_ROOT}/scripts/install-node.sh")"
  export PATH="${KUBE_BIN}:${PATH}"
  export KUBECONFIG="${CLUSTER_DIR}/kubeconfig"
  if [ -f "${NODE_DIR}/.up" ] && kubectl get --raw /readyz >/dev/null 2>&1; then
    log "node already up"
    printf '%s\n' "${KUBECONFIG}"
    return 0
  fi
  "${REPO_ROOT}/scripts/node-down.sh"
  trap cleanup EXIT
  host_network
  MLSTACK_CLUSTER_NODES=0 MLSTACK_APISERVER_IP="${NODE_IP}" "${REPO_ROOT}/scripts/cluster-up.sh" >/dev/null
  mkdir -p "${NODE_DIR}/pki"
  client_cert kubelet "system:node:${NODE_NAME}" system:nodes
  client_cert kube-proxy system:kube-proxy system:node-proxier
  component_kubeconfig kubelet
  component_kubeconfig kube-proxy
  start_containerd
  start_kubelet
  start_kube_proxy
  cluster_dns
  metrics_server
  storage
  touch "${NODE_DIR}/.up"
  UP_OK=1
  log "node ${NODE_NAME} up in $((SECONDS - t0))s: export KUBECONFIG=${KUBECONFIG}"
  printf '%s\n' "${KUBECONFIG}"
}

main "$@"
