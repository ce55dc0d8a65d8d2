#!/usr/bin/env bash
# The offline base image: Debian bookworm minbase from debootstrap, plus python3 (3.11), its venv
# module and CA certificates, imported into Docker as ${BASE_IMAGE_TAG}. For machines that can reach
# a Debian mirror but no container registry: `make images BASE_IMAGE=${BASE_IMAGE_TAG}`.
# Idempotent: an existing image is kept (FORCE=1 rebuilds); the root filesystem tarball is cached.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOTFS_TAR="${MLSTACK_CACHE}/base/${DEBIAN_SUITE}-py311.tar"

ROOTFS_DIR=""
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"  # debootstrap and the root-owned tree need root
cleanup() { [ -z "${ROOTFS_DIR}" ] || ${SUDO} rm -rf "${ROOTFS_DIR}"; }
trap cleanup EXIT

build_rootfs() {
  ROOTFS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mlstack-rootfs.XXXXXX")"
  local root="${ROOTFS_DIR}"
  log "debootstrap ${DEBIAN_SUITE} (minbase) from ${DEBIAN_MIRROR}"
  ${SUDO} debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "${DEBIAN_SUITE}" "${root}" "${DEBIAN_MIRROR}" >"${MLSTACK_CACHE}/base/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see ${MLSTACK_CACHE}/base/debootstrap.log"
  # Keep the image small: no package lists, caches, docs or man pages.
  ${SUDO} rm -rf "${root}"/var/lib/apt/lists/* "${root}"/var/cache/apt/* "${root}"/usr/share/doc/* \
    "${root}"/usr/share/man/* "${root}"/usr/share/locale/* "${root}"/var/log/*
  ${SUDO} tar -C "${root}" --numeric-owner -cf "${ROOTFS_TAR}.partial" .
  ${SUDO} chown "$(id -u):$(id -g)" "${ROOTFS_TAR}.partial"
  mv "${ROOTFS_TAR}.partial" "${ROOTFS_TAR}"
}

main() {
  local docker
  docker="$("${REPO_ROOT}/scripts/install-docker.sh" | tail -n 1)"
  if [ "${FORCE:-0}" != 1 ] && "${docker}" image inspect "${BASE_IMAGE_TAG}" >/dev/null 2>&1; then
    log "base image ${BASE_IMAGE_TAG} exists"
    return 0
  fi
  mkdir -p "$(dirname "${ROOTFS_TAR}")"
  if [ ! -f "${ROOTFS_TAR}" ] || [ "${FORCE:-0}" = 1 ]; then
    build_rootfs
  fi
  log "importing ${ROOTFS_TAR} as ${BASE_IMAGE_TAG}"
  "${docker}" import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    "${ROOTFS_TAR}" "${BASE_IMAGE_TAG}" >/dev/null
  log "base image ${BASE_IMAGE_TAG}: $("${docker}" image inspect -f '{{.Size}}' "${BASE_IMAGE_TAG}" | numfmt --to=iec)"
}

main "$@"
