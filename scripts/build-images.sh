#!/usr/bin/env bash
# `make images`: build mlstack/mlflow, mlstack/api and mlstack/trainer (or the ones named as
# arguments) tagged with the project
# version, from BASE_IMAGE (default: each Dockerfile's public python image; scripts/build-base-image.sh
# makes an offline one). MLSTACK_CA_BUNDLE (default: the system trust store, if present; empty to
# skip) is passed as a BuildKit secret for TLS-intercepting proxies. Prints each image's size and
# fails if the api image exceeds API_IMAGE_MAX_MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGES=(mlflow api trainer)
API_IMAGE_MAX_MB="${API_IMAGE_MAX_MB:-450}"

main() {
  local docker version revision
  docker="$("${REPO_ROOT}/scripts/install-docker.sh" | tail -n 1)" || die "no Docker engine (see above)"
  version="$(project_version)"
  revision="$(git -C "${REPO_ROOT}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  local args=(--build-arg "VERSION=${version}" --build-arg "REVISION=${revision}")
  [ -n "${BASE_IMAGE:-}" ] && args+=(--build-arg "BASE_IMAGE=${BASE_IMAGE}")
  local ca="${MLSTACK_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
  if [ -n "${ca}" ] && [ -f "${ca}" ]; then
    args+=(--secret "id=ca_bundle,src=${ca}")
  fi
  local name started
  [ $# -gt 0 ] || set -- "${IMAGES[@]}"
  for name in "$@"; do
    [ -f "${REPO_ROOT}/images/${name}/Dockerfile" ] || die "no image ${name} (images/${name}/Dockerfile)"
    started=${SECONDS}
    log "building mlstack/${name}:${version}${BASE_IMAGE:+ from ${BASE_IMAGE}}"
    local build_log="${MLSTACK_CACHE}/logs/build-${name}.log"
    mkdir -p "$(dirname "${build_log}")"
    DOCKER_BUILDKIT=1 "${docker}" build --progress=plain "${args[@]}" \
      -f "${REPO_ROOT}/images/${name}/Dockerfile" -t "mlstack/${name}:${version}" "${REPO_ROOT}" >"${build_log}" 2>&1 \
      || { tail -n 30 "${build_log}" >&2; die "building mlstack/${name} failed (full log: ${build_log})"; }
    local bytes
    bytes="$("${docker}" image inspect -f '{{.Size}}' "mlstack/${name}:${version}")"
    log "mlstack/${name}:${version} $((bytes / 1000000)) MB, built in $((SECONDS - started))s"
    if [ "${name}" = api ] && [ $((bytes / 1000000)) -gt "${API_IMAGE_MAX_MB}" ]; then
      die "the api image is $((bytes / 1000000)) MB, over the ${API_IMAGE_MAX_MB} MB budget"
    fi
  done
}

main "$@"
