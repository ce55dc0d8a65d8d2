"""Fixtures for the faults tier: every test gets its own servers, because every test breaks them.

Nothing here is shared with other tiers: killing a session-wide MLflow or Postgres would fail
unrelated tests. Each stack lives under the test's tmp_path and is stopped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.api import ApiProcess
from tests.support.services import (
    ARTIFACT_BUCKET,
    MinioServer,
    MlflowServer,
    PostgresServer,
    embedded_mlflow,
    production_mlflow,
)

pytestmark = pytest.mark.integration


@dataclass
class ProductionStack:
    """PostgreSQL + MinIO + `mlflow server` wired as the chart wires them."""

    postgres: PostgresServer
    minio: MinioServer
    mlflow: MlflowServer


@pytest.fixture
def model_name() -> str:
    return f"fault-model-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[MlflowServer]:
    """A private `mlflow server` on SQLite; the test may kill and restart it."""
    server = embedded_mlflow(tmp_path / "mlflow")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def production(tmp_path: Path) -> Iterator[ProductionStack]:
    """A private production topology; the test may stop, kill and restart any part of it."""
    postgres = PostgresServer()
    minio = MinioServer(tmp_path / "minio")
    postgres.start()
    minio.start()
    minio.create_bucket(ARTIFACT_BUCKET)
    (tmp_path / "mlflow").mkdir()
    mlflow = production_mlflow(tmp_path / "mlflow", postgres, minio)
    mlflow.start()
    yield ProductionStack(postgres, minio, mlflow)
    mlflow.stop()
    minio.stop()
    postgres.cleanup()


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[Callable[..., ApiProcess]]:
    """`start_api(tracking_uri, model_name, workers=1, env={})`: a running API, stopped after the test."""
    started: list[ApiProcess] = []

    def _start(tracking_uri: str, model_name: str, *, workers: int = 1, env: dict[str, str] | None = None):
        api = ApiProcess(tmp_path, tracking_uri, model_name, workers=workers, env=env).start()
        started.append(api)
        return api

    yield _start
    for api in started:
        api.stop()
