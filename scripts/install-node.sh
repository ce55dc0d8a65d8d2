#!/usr/bin/env bash
# What a real node needs beyond scripts/install-kube.sh's kubelet and kube-proxy: containerd, runc,
# the CNI plugins and iptables from Debian, and three local images no registry serves: the pod
# sandbox (scripts/gomod/pause), CoreDNS (scripts/gomod/coredns, COREDNS_VERSION) and metrics-server
# (scripts/gomod/metrics-server, METRICS_SERVER_VERSION). All are static Go binaries packed as
# single-layer image archives for `ctr images import`. They land in
# ${MLSTACK_CACHE}/node/<key>/images; a warm run rebuilds nothing. Prints that directory.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/node-lib.sh"

GOMOD_DIR="${REPO_ROOT}/scripts/gomod"
DEBIAN_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack)

# node_cache_dir: keyed by the CoreDNS pin and the hash of both wrapper modules' sources.
node_cache_dir() {
  local key
  key="$(cd "${GOMOD_DIR}" && cat pause/go.mod pause/main.go coredns/go.mod coredns/go.sum \
    coredns/cmd/coredns/main.go metrics-server/go.mod metrics-server/go.sum | sha256sum | cut -c1-12)"
  printf '%s\n' "${MLSTACK_CACHE}/node/coredns${COREDNS_VERSION}-${key}"
}

# image_archive REF BINARY OUT ENTRYPOINT...: a Docker image archive (what `docker save` writes) with
# one layer holding BINARY at /, run as nobody, for `ctr images import`.
image_archive() {
  local ref="$1" binary="$2" out="$3"
  shift 3
  local work layer_sum config config_sum entrypoint
  work="$(mktemp -d)"
  mkdir -p "${work}/root" "${work}/archive"
  install -m 0755 "${binary}" "${work}/root/$(basename "${binary}")"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "${work}/root" -cf "${work}/layer.tar" .
  layer_sum="$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)"
  mkdir -p "${work}/archive/${layer_sum}"
  mv "${work}/layer.tar" "${work}/archive/${layer_sum}/layer.tar"
  entrypoint="$(printf '"%s",' "$@")"
  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"65534:65534\",\"Entrypoint\":[${entrypoint%,}]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:${layer_sum}\"]}}"
  config_sum="$(printf '%s' "${config}" | sha256sum | cut -d' ' -f1)"
  printf '%s' "${config}" >"${work}/archive/${config_sum}.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "${config_sum}" "${ref}" "${layer_sum}" >"${work}/archive/manifest.json"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "${work}/archive" -cf "${out}" .
  rm -rf "${work}"
}

go_build() {
  local dir="$1" out="$2" pkg="$3"
  (cd "${GOMOD_DIR}/${dir}" &&
    CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w" -o "${out}" "${pkg}")
}

main() {
  apt_install "${DEBIAN_PACKAGES[@]}"
  command -v go >/dev/null || die "go is needed to build the pause and CoreDNS images"
  grep -Eq "^require github.com/coredns/coredns ${COREDNS_VERSION}\$" "${GOMOD_DIR}/coredns/go.mod" ||
    die "scripts/gomod/coredns/go.mod does not require CoreDNS ${COREDNS_VERSION} (scripts/versions.env)"
  grep -Eq "^require sigs.k8s.io/metrics-server ${METRICS_SERVER_VERSION}\$" "${GOMOD_DIR}/metrics-server/go.mod" ||
    die "scripts/gomod/metrics-server/go.mod does not require ${METRICS_SERVER_VERSION} (scripts/versions.env)"
  local dest
  dest="$(node_cache_dir)"
  mkdir -p "${MLSTACK_CACHE}/node"
  exec 9>"${MLSTACK_CACHE}/node/.lock"
  flock 9
  if [ ! -f "${dest}/.complete" ]; then
    local t0=${SECONDS} tmp
    tmp="$(mktemp -d "${MLSTACK_CACHE}/node/.build.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -rf '${tmp}'" EXIT
    mkdir -p "${tmp}/bin" "${tmp}/images"
    log "building the pod sandbox program"
    go_build pause "${tmp}/bin/pause" .
    log "building CoreDNS ${COREDNS_VERSION} (cold: about 2 minutes on 2 cores)"
    go_build coredns "${tmp}/bin/coredns" ./cmd/coredns
    log "building metrics-server ${METRICS_SERVER_VERSION} (cold: about 4 minutes on 2 cores)"
    go_build metrics-server "${tmp}/bin/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server
    image_archive "${PAUSE_IMAGE}" "${tmp}/bin/pause" "${tmp}/images/pause.tar" /pause
    image_archive "${METRICS_SERVER_IMAGE}" "${tmp}/bin/metrics-server" "${tmp}/images/metrics-server.tar" \
      /metrics-server
    image_archive "${COREDNS_IMAGE}" "${tmp}/bin/coredns" "${tmp}/images/coredns.tar" /coredns
    rm -rf "${dest}"
    mv "${tmp}" "${dest}"
    touch "${dest}/.complete"
    log "node images built in $((SECONDS - t0))s into ${dest}/images"
  fi
  printf '%s\n' "${dest}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
