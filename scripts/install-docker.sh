#!/usr/bin/env bash
# A running Docker engine with BuildKit: Debian's docker.io (and debootstrap for the offline base
# image) when missing, dockerd started in the background when nothing answers on the socket.
# Prints the docker CLI to use on its last line. Exit 3 (with the reason) where no engine can start,
# so callers can skip rather than fail.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_LOG="${MLSTACK_CACHE}/dockerd.log"

start_dockerd() {
  command -v dockerd >/dev/null || return 1
  log "starting dockerd (log: ${DOCKERD_LOG})"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  ${sudo} nohup dockerd >"${DOCKERD_LOG}" 2>&1 &
  local _
  for _ in $(seq 60); do
    docker_cli info >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

main() {
  if ! command -v dockerd >/dev/null; then
    apt_install docker.io
  fi
  command -v debootstrap >/dev/null || apt_install debootstrap
  if ! docker_cli info >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
      log "no Docker engine answers and this user cannot start one"
      exit 3
    fi
    start_dockerd || {
      log "dockerd did not start; its log ends with:"
      tail -n 20 "${DOCKERD_LOG}" >&2 || true
      exit 3
    }
  fi
  docker_cli
}

main "$@"
