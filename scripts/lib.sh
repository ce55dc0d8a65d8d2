# shellcheck shell=bash
# Shared by every script under scripts/: strict mode, the repository root, the tool cache and
# pinned `go install`. Source it; do not run it.
set -o errexit -o nounset -o pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tool builds and virtualenvs live outside the clone so a fresh checkout (CI) reuses them.
MLSTACK_CACHE="${MLSTACK_CACHE:-${HOME}/.cache/mlstack}"
TOOLS_BIN="${MLSTACK_CACHE}/bin"
mkdir -p "${TOOLS_BIN}"
export PATH="${TOOLS_BIN}:${PATH}"
# shellcheck source=scripts/versions.env
source "${REPO_ROOT}/scripts/versions.env"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# go_install NAME PACKAGE VERSION: build PACKAGE@VERSION once into the cache and link it as
# $TOOLS_BIN/NAME. A second call with the same version does nothing.
go_install() {
  local name="$1" package="$2" version="$3"
  [ -n "${version}" ] || die "no version pinned for ${name} in scripts/versions.env"
  local dest="${MLSTACK_CACHE}/tools/${name}-${version}"
  if [ ! -x "${dest}/${name}" ]; then
    command -v go >/dev/null || die "go is needed to build ${name}"
    log "building ${name} ${version} (${package})"
    mkdir -p "${dest}"
    GOBIN="${dest}" CGO_ENABLED="${CGO_ENABLED:-0}" go install "${package}@${version}"
    local built
    built="$(basename "${package%%@*}")"
    [ "${built}" = "${name}" ] || mv "${dest}/${built}" "${dest}/${name}"
  fi
  ln -sfn "${dest}/${name}" "${TOOLS_BIN}/${name}"
}

# apt_install PKG...: install Debian packages that are missing, updating the index at most once.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  ${sudo} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# venv_dir: the project virtualenv for the current lock. It lives in the cache, keyed by the lock's
# hash, so a fresh clone with the same constraints.txt reuses it.
venv_dir() {
  local key
  key="$(sha256sum <"${REPO_ROOT}/constraints.txt" | cut -c1-16)"
  printf '%s\n' "${MLSTACK_VENV:-${MLSTACK_CACHE}/venvs/py311-${key}}"
}

# activate_venv: put the project virtualenv first on PATH and the repository on PYTHONPATH, so
# `python -m training` / `python -m api` run the checked-out code.
activate_venv() {
  local venv
  venv="$(venv_dir)"
  [ -f "${venv}/.mlstack-complete" ] || die "no virtualenv at ${venv}: run scripts/install-python.sh"
  export VIRTUAL_ENV="${venv}"
  export PATH="${venv}/bin:${PATH}"
  export PYTHONPATH="${REPO_ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
}

# project_version: the version in pyproject.toml, which tags the images and the chart's appVersion.
project_version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' "${REPO_ROOT}/pyproject.toml" | head -n 1
}

# docker_cli [ARGS...]: run the docker client that can build with BuildKit (for --secret). A client
# with the buildx plugin does; an old (<23) client does with DOCKER_BUILDKIT=1; Docker 23+ without
# buildx cannot, so prefer Debian's /usr/bin/docker then. Without arguments, print the command.
docker_cli() {
  local cli=docker
  if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then
    cli=/usr/bin/docker
  fi
  if [ $# -eq 0 ]; then
    printf '%s\n' "${cli}"
    return 0
  fi
  DOCKER_BUILDKIT=1 "${cli}" "$@"
}
