#!/usr/bin/env bash
# Install the real backing services of the integration tier: PostgreSQL from Debian's packages and
# MinIO + mc built from their Go modules at pinned pseudo-versions. Idempotent; quick when present.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_postgres() {
  apt_install postgresql
  local bindir
  bindir="$(pg_bindir)"
  [ -x "${bindir}/initdb" ] || die "PostgreSQL is installed but ${bindir}/initdb is missing"
  ln -sfn "${bindir}/initdb" "${TOOLS_BIN}/initdb"
  ln -sfn "${bindir}/postgres" "${TOOLS_BIN}/postgres"
  ln -sfn "${bindir}/pg_ctl" "${TOOLS_BIN}/pg_ctl"
}

# The newest server version Debian installed, e.g. /usr/lib/postgresql/15/bin.
pg_bindir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [ -n "${dir}" ] || die "no PostgreSQL server under /usr/lib/postgresql"
  printf '%s\n' "${dir}"
}

main() {
  install_postgres
  go_install minio "${MINIO_MODULE}" "${MINIO_VERSION}"
  go_install mc "${MC_MODULE}" "${MC_VERSION}"
}

main "$@"
