"""Moving the alias while a client sends requests: zero failures, and no response from a version that
was not production when the request was sent."""

from __future__ import annotations

import threading
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


def test_alias_move_under_load_drops_nothing(
    mlflow_server: MlflowServer,
    model_name: str,
    start_api: Callable[[MlflowServer, str], str],
    tmp_path: Path,
) -> None:
    train_model(mlflow_server.uri, tmp_path / "s", model_name=model_name)
    train_model(mlflow_server.uri, tmp_path / "s", model_name=model_name)
    client = MlflowClient(tracking_uri=mlflow_server.uri)
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{model_name}'"))
    assert len(versions) == 2
    first, second = (str(v) for v in versions)
    client.set_registered_model_alias(model_name, "production", first)

    base = start_api(mlflow_server, model_name)
    deadline = time.monotonic() + 60
    while requests.get(f"{base}/readyz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "API never became ready"
        time.sleep(0.2)

    results: list[tuple[float, int, str]] = []  # (sent at, status, version)
    stop = threading.Event()

    def hammer() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    response = session.post(f"{base}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
                    results.append((sent, response.status_code, response.json().get("model_version", "")))
                except requests.RequestException as exc:
                    results.append((sent, 0, str(exc)))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        time.sleep(1.0)
        switched_at = time.monotonic()
        client.set_registered_model_alias(model_name, "production", second)
        deadline = time.monotonic() + 30
        while not any(r[2] == second for r in results):
            assert time.monotonic() < deadline, "the API never switched to the new version"
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join()

    failures = [r for r in results if r[1] != 200]
    assert not failures, failures[:5]
    assert {r[2] for r in results} == {first, second}
    # A response from the new version only for requests sent after the alias moved.
    assert all(sent >= switched_at for sent, _, version in results if version == second)
    # One worker: once the new version answered, the old one never answers again.
    first_new = next(i for i, r in enumerate(results) if r[2] == second)
    assert all(r[2] == second for r in results[first_new:])
