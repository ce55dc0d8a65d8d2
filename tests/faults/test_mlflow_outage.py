"""MLflow killed while the API serves under load: nothing fails, readiness holds, the outage shows in
the metrics, and an alias moved while MLflow was down is followed once it is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient

from tests.support.api import ApiProcess
from tests.support.load import SteadyLoad
from tests.support.services import MlflowServer
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.2)


def test_mlflow_killed_under_load(
    embedded: MlflowServer, model_name: str, start_api: Callable[..., ApiProcess], tmp_path: Path
) -> None:
    first = train_model(embedded.uri, tmp_path, model_name=model_name)["version"]
    second = train_model(embedded.uri, tmp_path, model_name=model_name, param="C=0.5")["version"]
    server = MlflowClient(embedded.uri)
    server.set_registered_model_alias(model_name, "production", first)
    api = start_api(embedded.uri, model_name, workers=1, env={"MLSTACK_MAX_BACKOFF_SECONDS": "2"})
    assert api.wait_ready()["version"] == first
    assert api.metric("mlstack_registry_reachable") == 1

    with SteadyLoad(api.url, clients=4) as load:
        time.sleep(1.0)
        embedded.kill()  # SIGKILL: no goodbye to open connections
        _wait(lambda: api.metric("mlstack_registry_reachable") == 0, 30, "registry_reachable to drop to 0")
        readiness = requests.get(f"{api.url}/readyz", timeout=5)
        assert readiness.status_code == 200
        assert readiness.json()["version"] == first
        assert "unreachable" in readiness.json()["registry"]

        # Someone promotes while the server is down, straight in the backend store (as another
        # MLflow replica would): the API cannot see it yet and keeps serving the first version.
        store_uri = embedded.backend_store_uri
        MlflowClient(tracking_uri=store_uri, registry_uri=store_uri).set_registered_model_alias(
            model_name, "production", second
        )
        time.sleep(2.0)
        assert load.versions_since(time.monotonic() - 1.0) == {first}

        embedded.start()
        load.wait_for_version(second, timeout=30)
        _wait(lambda: api.metric("mlstack_registry_reachable") == 1, 30, "registry_reachable back to 1")
        time.sleep(1.0)

    outcomes = load.snapshot()
    assert len(outcomes) > 100, "the load generator barely ran"
    assert load.failures() == []
    assert {o.version for o in outcomes} == {first, second}
    assert requests.get(f"{api.url}/readyz", timeout=5).json()["version"] == second
