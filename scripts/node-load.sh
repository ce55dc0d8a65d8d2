#!/usr/bin/env bash
# `make node-load`: copy images from the local Docker engine into the real node's containerd
# (scripts/node-up.sh) with `docker save | ctr images import`; no registry is involved. Without
# arguments: the three mlstack images at the project version. An image the node already holds with
# the same ID is skipped.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/node-lib.sh"

# node_has REF ID: the node's containerd has REF and its config digest is the Docker image ID.
node_has() {
  local ref="$1" id="$2" name
  name="${ref}"
  [[ "${name%%/*}" == *.* ]] || name="docker.io/${name}"
  [[ "${name##*/}" == *:* ]] || name="${name}:latest"
  ctr_node images ls "name==${name}" 2>/dev/null | tail -n +2 | grep -q . || return 1
  ctr_node content ls -q 2>/dev/null | grep -qx "${id}"
}

main() {
  [ -S "${CONTAINERD_SOCK}" ] || die "no node containerd at ${CONTAINERD_SOCK}: run scripts/node-up.sh"
  local version docker ref id todo=()
  version="$(project_version)"
  [ $# -gt 0 ] || set -- "mlstack/mlflow:${version}" "mlstack/api:${version}" "mlstack/trainer:${version}"
  docker="$("${REPO_ROOT}/scripts/install-docker.sh" | tail -n 1)" || die "no Docker engine (see above)"
  for ref in "$@"; do
    id="$("${docker}" image inspect -f '{{.Id}}' "${ref}")" || die "no image ${ref} in Docker (make images)"
    if node_has "${ref}" "${id}"; then
      log "${ref} already on the node"
    else
      todo+=("${ref}")
    fi
  done
  [ ${#todo[@]} -gt 0 ] || return 0
  local t0=${SECONDS}
  log "importing ${todo[*]} into the node's containerd"
  "${docker}" save "${todo[@]}" | ctr_node images import - >/dev/null
  log "imported ${#todo[@]} images in $((SECONDS - t0))s"
}

main "$@"
