#!/usr/bin/env bash
# `make train`: one training run, a Job created from the trainer CronJob template; waits for it and
# prints its log. JOB=name picks the Job's name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${REPO_ROOT}/scripts/kind-lib.sh"

main() {
  kind_tools
  local job="${JOB:-train-$(date +%s)}"
  kctl create job "${job}" --from="cronjob/${RELEASE}-trainer"
  log "waiting for job/${job}"
  if ! kctl wait --for=condition=complete "job/${job}" --timeout="${TRAIN_TIMEOUT:-15m}"; then
    kctl logs "job/${job}" --tail=50 >&2 || true
    die "job/${job} did not complete"
  fi
  kctl logs "job/${job}" --tail=20
}

main "$@"
