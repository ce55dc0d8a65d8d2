#!/usr/bin/env bash
# Re-resolve the [dev] extra of pyproject.toml in a scratch virtualenv and write the exact pins to
# constraints.txt. Run it on purpose when dependencies change; nothing else calls it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local scratch
  scratch="$(mktemp -d)"
  trap 'rm -rf "${scratch}"' EXIT
  python3 -m venv "${scratch}/venv"
  "${scratch}/venv/bin/pip" install --quiet --upgrade "pip==${PIP_VERSION}"
  "${scratch}/venv/bin/pip" install --quiet "${REPO_ROOT}[dev]"
  {
    echo "# Exact pins for every Python package the project and its tests use (the [dev] extra, resolved)."
    echo "# Regenerate with scripts/lock-python.sh; images install subsets with 'pip install -c constraints.txt'."
    "${scratch}/venv/bin/pip" freeze --exclude-editable | grep -v '^mlstack[= @]'
  } >"${REPO_ROOT}/constraints.txt"
  log "wrote constraints.txt"
}

main "$@"
