"""`python -m mlstack.db_migrate` on a real Postgres: concurrent runs on an empty database, re-runs,
and a database that is not there (the chart's migration Job and MLflow init containers rely on all three)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg

from mlstack.db_migrate import main
from tests.support.processes import free_port


def _migrate_env(uri: str) -> dict[str, str]:
    return {**os.environ, "MLFLOW_BACKEND_STORE_URI": uri}


def _schema_revision(uri: str) -> str:
    with psycopg.connect(uri) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def _latest_revision() -> str:
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()


def test_concurrent_runs_on_an_empty_database_take_turns(postgres):
    uri = postgres.create_database(f"migrate_{uuid.uuid4().hex[:8]}")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlstack.db_migrate", "--wait-seconds", "30"],
            env=_migrate_env(uri),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], "\n---\n".join(outputs)
    assert _schema_revision(uri) == _latest_revision()
    # The runs that waited for the lock found the schema current; nobody hit a duplicate table.
    assert not any("already exists" in out for out in outputs), "\n---\n".join(outputs)


def test_rerun_on_a_current_schema_is_a_no_op(postgres):
    uri = postgres.create_database(f"migrate_{uuid.uuid4().hex[:8]}")
    env = _migrate_env(uri)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "mlstack.db_migrate"], env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stderr
    assert _schema_revision(uri) == _latest_revision()


def test_unreachable_database_fails_with_a_sentence_after_the_wait():
    port = free_port()  # nothing listens here
    done = subprocess.run(
        [sys.executable, "-m", "mlstack.db_migrate", "--wait-seconds", "1"],
        env=_migrate_env(f"postgresql://mlflow:s3cret@127.0.0.1:{port}/mlflow"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"127.0.0.1:{port}/mlflow is unreachable after" in done.stderr
    assert "s3cret" not in done.stderr


def test_missing_or_foreign_uri_is_an_input_error(monkeypatch):
    monkeypatch.delenv("MLFLOW_BACKEND_STORE_URI", raising=False)
    assert main([]) == 2
    monkeypatch.setenv("MLFLOW_BACKEND_STORE_URI", "sqlite:///tmp/mlflow.db")
    assert main([]) == 2
