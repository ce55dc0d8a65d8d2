"""The served process follows the registry: not ready without a model, ready after promotion, and it
keeps serving when MLflow goes away."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.support.iris import IRIS_ROW
from tests.support.services import MlflowServer
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s")


def _registry_gauge(base: str) -> str:
    for line in requests.get(f"{base}/metrics", timeout=5).text.splitlines():
        if line.startswith("mlstack_registry_reachable "):
            return line.split()[1]
    return ""


def test_ready_after_promotion_and_serving_survives_mlflow_outage(
    mlflow_server: MlflowServer,
    model_name: str,
    start_api: Callable[[MlflowServer, str], str],
    tmp_path: Path,
) -> None:
    base = start_api(mlflow_server, model_name)
    before = requests.get(f"{base}/readyz", timeout=5)
    assert before.status_code == 503
    assert "reason" in before.json()

    summary = train_model(mlflow_server.uri, tmp_path / "summaries", model_name=model_name)
    _wait_for(lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200)
    ready = requests.get(f"{base}/readyz", timeout=5).json()
    assert ready["version"] == str(summary.get("version", ready["version"]))

    predicted = requests.post(f"{base}/v1/predict", json={"inputs": IRIS_ROW}, timeout=5)
    assert predicted.status_code == 200, predicted.text
    assert predicted.json()["model_version"] == ready["version"]

    mlflow_server.stop()
    try:
        _wait_for(lambda: _registry_gauge(base) == "0.0", timeout=30)
        during = requests.post(f"{base}/v1/predict", json={"inputs": IRIS_ROW}, timeout=5)
        assert during.status_code == 200
        assert during.json()["predictions"] == predicted.json()["predictions"]
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        mlflow_server.start()
    _wait_for(lambda: _registry_gauge(base) == "1.0", timeout=30)
