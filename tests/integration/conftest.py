"""Fixtures for the integration tier: real `mlflow server` processes in both supported topologies.

- embedded: SQLite backend + local artifact folder (what `make demo` runs)
- production: PostgreSQL backend + MinIO bucket behind `--serve-artifacts` (what the chart runs)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.services import MinioServer, MlflowServer, PostgresServer
from tests.support.trainer import TrainerRun, run_trainer

ARTIFACT_BUCKET = "mlflow-artifacts"


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


def _embedded_server(root: Path) -> MlflowServer:
    (root / "artifacts").mkdir(parents=True, exist_ok=True)
    return MlflowServer(
        root=root,
        backend_store_uri=f"sqlite:///{root / 'mlflow.db'}",
        artifacts_destination=str(root / "artifacts"),
        env={},
        topology="embedded",
    )


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """The embedded topology: SQLite + local artifacts. `.stop()` / `.start()` restart it in place."""
    server = _embedded_server(tmp_path_factory.mktemp("mlflow-embedded"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_production(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, minio: MinioServer
) -> Iterator[MlflowServer]:
    """The production topology: PostgreSQL backend store, MinIO artifact destination."""
    server = MlflowServer(
        root=tmp_path_factory.mktemp("mlflow-production"),
        backend_store_uri=postgres.create_database("mlflow"),
        artifacts_destination=f"s3://{ARTIFACT_BUCKET}",
        env=minio.client_env,
        topology="production",
    )
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


def train_model(tracking_uri: str, summary_dir: Path, **overrides: object) -> dict:
    """Train with flags from keyword arguments (`model_name="x"` -> `--model-name x`); the summary dict.

    For other test folders (e.g. the API's integration tests) that need a promoted model.
    """
    args: list[str] = []
    for key, value in overrides.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    run = run_trainer(tracking_uri, *args, summary_dir=summary_dir)
    assert run.summary is not None, f"trainer failed ({run.returncode}):\n{run.stderr[-3000:]}"
    return run.summary
