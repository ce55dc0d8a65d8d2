#!/usr/bin/env bash
# Build the local cluster's binaries once per pinned version set: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, and for a real node kubelet and kube-proxy
# (k8s.io/kubernetes), etcd, kwok and kwokctl, each from its wrapper module under scripts/gomod/.
# They land in ${MLSTACK_CACHE}/kube/<key>/bin; a warm run checks a stamp and the binaries and
# rebuilds nothing; concurrent runs wait for one build (flock). kubectl is linked into TOOLS_BIN.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOMOD_DIR="${REPO_ROOT}/scripts/gomod"
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

# kube_dir: where this version set's binaries live (also used by cluster-up.sh).
kube_dir() {
  printf '%s\n' "${MLSTACK_CACHE}/kube/${KUBERNETES_VERSION}-etcd${ETCD_VERSION}-kwok${KWOK_VERSION}"
}

# require_pin MODULE_DIR MODULE VERSION: the wrapper's go.mod must require the pinned version.
require_pin() {
  local dir="$1" module="$2" version="$3"
  [ -n "${version}" ] || die "no version pinned for ${module} in scripts/versions.env"
  grep -Eq "^(require)?[[:space:]]*${module} ${version}\$" "${GOMOD_DIR}/${dir}/go.mod" ||
    die "scripts/gomod/${dir}/go.mod does not require ${module} ${version} (scripts/versions.env)"
}

# go_build_into DIR OUT LDFLAGS PACKAGE...: build PACKAGEs from the wrapper module in DIR into OUT.
go_build_into() {
  local dir="$1" out="$2" ldflags="$3"
  shift 3
  (cd "${GOMOD_DIR}/${dir}" &&
    CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w ${ldflags}" -o "${out}/" "$@")
}

build_kubernetes() {
  local out="$1" v="${KUBERNETES_VERSION}" minor ldflags pkgs=() cmd
  minor="$(cut -d. -f2 <<<"${v}")"
  # Stamp the version the binaries report (helm checks Chart.yaml kubeVersion against it).
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${v} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean"
  done
  for cmd in "${KUBE_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${cmd}"); done
  log "building ${KUBE_CMDS[*]} ${v} (cold: about 10 minutes on 2 cores)"
  go_build_into kubernetes "${out}" "${ldflags}" "${pkgs[@]}"
}

build_etcd() {
  log "building etcd ${ETCD_VERSION}"
  go_build_into etcd "$1" "" ./cmd/etcd
}

build_kwok() {
  log "building kwok and kwokctl ${KWOK_VERSION}"
  go_build_into kwok "$1" "" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}

# copy_kwok_stages DIR: kwok's stage definitions (node, pod and volume simulation) from its module.
copy_kwok_stages() {
  local src
  src="$(cd "${GOMOD_DIR}/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  mkdir -p "$1"
  cp -r "${src}/node" "${src}/pod" "${src}/volume" "$1/"
  chmod -R u+w "$1"
}

# complete DIR: DIR holds a finished build with every binary (a cache from before kubelet and
# kube-proxy were added lacks them and is rebuilt).
complete() {
  local cmd
  [ -f "$1/.complete" ] || return 1
  for cmd in "${KUBE_CMDS[@]}" etcd kwok; do
    [ -x "$1/bin/${cmd}" ] || return 1
  done
}

main() {
  command -v go >/dev/null || die "go is needed to build the cluster binaries"
  require_pin kubernetes k8s.io/kubernetes "${KUBERNETES_VERSION}"
  require_pin etcd go.etcd.io/etcd/server/v3 "${ETCD_VERSION}"
  require_pin kwok sigs.k8s.io/kwok "${KWOK_VERSION}"
  local dest
  dest="$(kube_dir)"
  mkdir -p "${MLSTACK_CACHE}/kube"
  # One build at a time (two test runs, or cluster-up beside make test): the second waits, then
  # finds the first one's binaries.
  exec 9>"${MLSTACK_CACHE}/kube/.lock"
  flock 9
  if ! complete "${dest}"; then
    local t0=${SECONDS} tmp
    tmp="$(mktemp -d "${MLSTACK_CACHE}/kube/.build.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -rf '${tmp}'" EXIT
    build_etcd "${tmp}/bin"
    build_kwok "${tmp}/bin"
    build_kubernetes "${tmp}/bin"
    copy_kwok_stages "${tmp}/stages"
    rm -rf "${dest}"
    mv "${tmp}" "${dest}"
    touch "${dest}/.complete"
    log "cluster binaries built in $((SECONDS - t0))s into ${dest}/bin"
  fi
  ln -sfn "${dest}/bin/kubectl" "${TOOLS_BIN}/kubectl"
  printf '%s\n' "${dest}/bin"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
