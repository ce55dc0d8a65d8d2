"""A version whose model file is corrupt in the artifact store is never swapped in."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient

from tests.support.iris import IRIS_ROW
from tests.support.services import MlflowServer
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration


def test_corrupt_artifact_keeps_the_old_version(
    mlflow_server: MlflowServer,
    model_name: str,
    start_api: Callable[[MlflowServer, str], str],
    tmp_path: Path,
) -> None:
    train_model(mlflow_server.uri, tmp_path / "s", model_name=model_name)
    train_model(mlflow_server.uri, tmp_path / "s", model_name=model_name)
    client = MlflowClient(tracking_uri=mlflow_server.uri)
    by_number = {int(v.version): v for v in client.search_model_versions(f"name='{model_name}'")}
    first, second = (by_number[k] for k in sorted(by_number))
    client.set_registered_model_alias(model_name, "production", first.version)

    base = start_api(mlflow_server, model_name)
    deadline = time.monotonic() + 60
    while requests.get(f"{base}/readyz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "API never became ready"
        time.sleep(0.2)

    # Corrupt every model file of the second version where the server keeps artifacts.
    model_id = second.model_id or second.source.rsplit("/", 1)[-1]
    corrupted = [
        path
        for path in Path(mlflow_server.root, "artifacts").rglob("*")
        if path.is_file() and model_id in str(path) and path.suffix in {".pkl", ".skops", ".joblib"}
    ]
    assert corrupted, f"no model file found for {model_id}"
    for path in corrupted:
        path.write_bytes(b"not a model")
    client.set_registered_model_alias(model_name, "production", second.version)

    deadline = time.monotonic() + 30
    while 'reloads_total{result="failure"}' not in requests.get(f"{base}/metrics", timeout=5).text.replace(
        "mlstack_model_", ""
    ):
        assert time.monotonic() < deadline, "the failed load never showed in metrics"
        time.sleep(0.2)
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["version"] == first.version
    answer = requests.post(f"{base}/v1/predict", json={"inputs": IRIS_ROW}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["model_version"] == first.version
