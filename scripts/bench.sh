#!/usr/bin/env bash
# `make bench` (never part of `make test`): our API against `mlflow models serve` on the same model
# versions, driven by wrk, written to .state/bench/ (results.json, results.csv, chart.png).
# BENCH_SECONDS (default 10) per measurement, BENCH_ROUNDS (default 2) interleaved rounds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  "${REPO_ROOT}/scripts/install-python.sh"
  apt_install wrk
  activate_venv
  cd "${REPO_ROOT}"
  python scripts/bench/bench.py --out "${REPO_ROOT}/.state/bench" "$@"
}

main "$@"
