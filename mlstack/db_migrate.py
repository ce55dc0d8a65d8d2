"""Bring MLflow's backend database to the current schema, safely from many pods at once.

`python -m mlstack.db_migrate` waits for the database, takes a Postgres advisory lock, runs
`mlflow db upgrade` (which creates the schema on an empty database) and releases the lock. The chart
runs it in the migration hook Job and in every MLflow pod's init container: the lock makes the
concurrent runs of a fresh multi-replica install take turns instead of racing on CREATE TABLE, and
a run that finds the schema current costs one connection.

The database URI comes from MLFLOW_BACKEND_STORE_URI (MLflow's own variable); keep the password
out of it and in PGPASSWORD, which libpq reads, so it never shows in arguments or logs.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence

from mlstack.auth_users import ensure_users, wanted_users
from mlstack.logs import configure_logging
from mlstack.retry import DependencyUnavailable, retry_call

logger = logging.getLogger("mlstack.db_migrate")

# Arbitrary but fixed 64-bit key: every migrator of every release on a database shares this lock.
MIGRATION_LOCK_KEY = 0x6D6C737461636B  # "mlstack"


def _redacted(uri: str) -> str:
    """The URI with any inline password replaced, for log lines."""
    from sqlalchemy.engine import make_url

    return make_url(uri).render_as_string(hide_password=True)


def migrate(uri: str, *, wait_seconds: float, auth_database: str | None = None) -> None:
    """Wait for the database, then run `mlflow db upgrade` under the advisory lock; with
    `auth_database`, also create MLflow basic auth's own database if missing and migrate it."""
    import sqlalchemy

    if not uri.startswith("postgresql"):
        raise ValueError(f"MLFLOW_BACKEND_STORE_URI must be a postgresql:// URI, got {_redacted(uri)!r}")
    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        connection = retry_call(
            engine.connect,
            what=f"database {_redacted(uri)}",
            timeout_s=wait_seconds,
            retry_on=(sqlalchemy.exc.OperationalError,),
        )
        with connection:
            logger.info("waiting for the migration lock")
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                logger.info("running mlflow db upgrade", extra={"database": _redacted(uri)})
                subprocess.run([sys.executable, "-m", "mlflow", "db", "upgrade", uri], check=True)
                if auth_database:
                    _migrate_auth_database(uri, auth_database)
            finally:
                connection.execute(
                    sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
    finally:
        engine.dispose()
    logger.info("database schema is current")


def _migrate_auth_database(uri: str, name: str) -> None:
    """MLflow basic auth keeps users and permissions in a database of its own, created here (the
    caller holds the migration lock, so concurrent init containers do not race on CREATE DATABASE)."""
    import sqlalchemy
    from mlflow.server.auth.db.utils import migrate_if_needed
    from sqlalchemy.engine import make_url

    # CREATE DATABASE cannot run inside a transaction: a connection of its own, in autocommit.
    admin = sqlalchemy.create_engine(uri, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                logger.info("creating the auth database", extra={"database": name})
                quoted = connection.dialect.identifier_preparer.quote(name)
                connection.execute(sqlalchemy.text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()
    auth_uri = make_url(uri).set(database=name)
    engine = sqlalchemy.create_engine(auth_uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        logger.info("migrating the auth database", extra={"database": name})
        migrate_if_needed(engine, "head")
    finally:
        engine.dispose()
    users = wanted_users(os.environ)
    if users:
        ensure_users(auth_uri.render_as_string(hide_password=False), users)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlstack.db_migrate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wait-seconds", type=float, default=300.0, help="how long to wait for the database to answer"
    )
    parser.add_argument(
        "--auth-database",
        default=os.environ.get("MLSTACK_AUTH_DATABASE") or None,
        help="also create and migrate MLflow basic auth's database of this name [MLSTACK_AUTH_DATABASE]",
    )
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("MLSTACK_LOG_LEVEL", "INFO"))
    uri = os.environ.get("MLFLOW_BACKEND_STORE_URI", "")
    if not uri:
        logger.error("MLFLOW_BACKEND_STORE_URI is not set: it names the database to migrate")
        return 2
    try:
        wanted_users(os.environ)  # a missing password is bad input, found before touching anything
        migrate(uri, wait_seconds=args.wait_seconds, auth_database=args.auth_database)
    except ValueError as exc:
        logger.error(str(exc))
        return 2
    except DependencyUnavailable as exc:
        logger.error(str(exc))
        return 1
    except subprocess.CalledProcessError as exc:
        logger.error("mlflow db upgrade failed with exit code %s", exc.returncode)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
