"""MinIO down during a training run: the run is FAILED and registers nothing, the API keeps serving the
model it already holds, and once MinIO is back the next run succeeds."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.faults.conftest import ProductionStack
from tests.support.api import ApiProcess
from tests.support.load import SteadyLoad
from tests.support.trainer import run_trainer, train_model

pytestmark = pytest.mark.integration

# The trainer's MLflow client retries a failed upload 7 times over minutes by default (right for a
# blip in production); two retries keep this test to seconds and exercise the same path.
FEW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def test_minio_down_during_training(
    production: ProductionStack, model_name: str, start_api: Callable[..., ApiProcess], tmp_path: Path
) -> None:
    uri = production.mlflow.uri
    client = MlflowClient(uri)
    first = train_model(uri, tmp_path / "s", model_name=model_name)
    api = start_api(uri, model_name)
    assert api.wait_ready()["version"] == first["version"]

    with SteadyLoad(api.url, clients=2) as load:
        production.minio.stop()
        experiment = f"no-minio-{model_name}"
        failed = run_trainer(
            uri, "--model-name", model_name, "--experiment", experiment,
            env=FEW_RETRIES, summary_dir=tmp_path / "s",
        )  # fmt: skip
        time.sleep(1.0)

    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "run marked FAILED, nothing registered" in failed.stderr
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert [run.info.status for run in runs] == ["FAILED"]
    assert [v.version for v in client.search_model_versions(f"name='{model_name}'")] == [first["version"]]
    assert load.failures() == []
    assert {o.version for o in load.snapshot()} == {first["version"]}
    assert len(load.snapshot()) > 20

    production.minio.start()
    recovered = run_trainer(uri, "--model-name", model_name, "--param", "C=2", summary_dir=tmp_path / "s")
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert recovered.summary is not None
    assert client.get_model_version(model_name, recovered.version).status == "READY"
