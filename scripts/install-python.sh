#!/usr/bin/env bash
# Build the project virtualenv from constraints.txt (exact pins) once per lock, in the cache, and
# link it as .venv for editors. Quick when the lock has not changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_python() {
  local candidate
  for candidate in "python${PYTHON_VERSION_REQUIRED}" python3; do
    if command -v "${candidate}" >/dev/null &&
      "${candidate}" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '${PYTHON_VERSION_REQUIRED}'.split('.'))))"; then
      command -v "${candidate}"
      return 0
    fi
  done
  die "Python ${PYTHON_VERSION_REQUIRED} is needed (python${PYTHON_VERSION_REQUIRED} or python3 on PATH)"
}

build_venv() {
  local venv="$1" python
  python="$(find_python)"
  log "creating virtualenv ${venv} from constraints.txt"
  # Built in place (entry-point scripts embed their path); the marker is written last, so an
  # interrupted build is never mistaken for a good one.
  rm -rf "${venv}"
  "${python}" -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check --upgrade "pip==${PIP_VERSION}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check -r "${REPO_ROOT}/constraints.txt"
  touch "${venv}/.mlstack-complete"
}

link_dot_venv() {
  local venv="$1" link="${REPO_ROOT}/.venv"
  if [ -L "${link}" ] || [ ! -e "${link}" ]; then
    ln -sfn "${venv}" "${link}"
  fi
}

main() {
  local venv
  venv="$(venv_dir)"
  [ -f "${venv}/.mlstack-complete" ] || build_venv "${venv}"
  link_dot_venv "${venv}"
}

main "$@"
