#!/usr/bin/env bash
# Static checks that need no services: ruff (lint + format) on the Python code, shellcheck on every
# shell script, actionlint on the GitHub workflows. `make test` runs this before the test tiers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

lint_python() {
  log "ruff check + ruff format --check"
  ruff check --quiet .
  ruff format --check --quiet .
}

lint_shell() {
  apt_install shellcheck
  local scripts=()
  mapfile -t scripts < <(git ls-files --cached --others --exclude-standard '*.sh' .ci/run)
  log "shellcheck on ${#scripts[@]} scripts"
  shellcheck --external-sources --source-path=SCRIPTDIR "${scripts[@]}"
}

lint_workflows() {
  "${REPO_ROOT}/scripts/install-tools.sh"
  log "actionlint on .github/workflows"
  actionlint -shellcheck "$(command -v shellcheck)"
}

main() {
  activate_venv
  lint_python
  lint_shell
  lint_workflows
}

main "$@"
