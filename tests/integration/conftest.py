"""Fixtures for the integration tier: real `mlflow server` processes in both supported topologies.

- embedded: SQLite backend + local artifact folder (what `make demo` runs)
- production: PostgreSQL backend + MinIO bucket behind `--serve-artifacts` (what the chart runs)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.services import (
    ARTIFACT_BUCKET,
    MinioServer,
    MlflowServer,
    PostgresServer,
    embedded_mlflow,
    production_mlflow,
)
from tests.support.trainer import TrainerRun, run_trainer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("minio"))
    server.start()
    server.create_bucket(ARTIFACT_BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """The embedded topology: SQLite + local artifacts. `.stop()` / `.start()` restart it in place."""
    server = embedded_mlflow(tmp_path_factory.mktemp("mlflow-embedded"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_production(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, minio: MinioServer
) -> Iterator[MlflowServer]:
    """The production topology: PostgreSQL backend store, MinIO artifact destination."""
    server = production_mlflow(tmp_path_factory.mktemp("mlflow-production"), postgres, minio)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "production"])
def tracking_server(request: pytest.FixtureRequest) -> MlflowServer:
    """Each test that uses this runs once per topology."""
    name = "mlflow_server" if request.param == "embedded" else "mlflow_production"
    return request.getfixturevalue(name)


@pytest.fixture
def model_name() -> str:
    """A registered-model name no other test uses, so tests never see each other's versions."""
    return f"test-model-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def train(tmp_path: Path) -> Callable[..., TrainerRun]:
    """`train(server, "--data", ...)`: run the trainer CLI against a server."""

    def _train(server: MlflowServer, *args: str, env: dict[str, str] | None = None) -> TrainerRun:
        return run_trainer(server.uri, *args, env=env, summary_dir=tmp_path / "summaries")

    return _train
