#!/bin/sh
# initdb on first start (user, password, database from the environment), then run the server.
set -eu
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ ! -s "${PGDATA}/PG_VERSION" ]; then
  mkdir -p "${PGDATA}" && chmod 700 "${PGDATA}"
  pwfile="$(mktemp)"
  printf '%s' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"${pwfile}"
  initdb -D "${PGDATA}" -U "${POSTGRES_USER:-postgres}" --pwfile="${pwfile}" -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "${pwfile}"
  echo "listen_addresses = '*'" >>"${PGDATA}/postgresql.conf"
  echo "host all all all scram-sha-256" >>"${PGDATA}/pg_hba.conf"
  pg_ctl -D "${PGDATA}" -o "-c listen_addresses='' -k /var/run/postgresql" -w start >/dev/null
  if [ "${POSTGRES_DB:-}" ] && [ "${POSTGRES_DB}" != postgres ]; then
    createdb -h /var/run/postgresql -U "${POSTGRES_USER:-postgres}" "${POSTGRES_DB}"
  fi
  pg_ctl -D "${PGDATA}" -m fast -w stop >/dev/null
  echo "initialised ${PGDATA}"
fi
if [ "$1" = postgres ]; then shift; exec postgres -D "${PGDATA}" "$@"; fi
exec "$@"
