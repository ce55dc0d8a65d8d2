"""With several uvicorn workers, one scrape of any worker sees the whole pod (multiprocess metrics)."""

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


def _samples(text: str, name: str) -> list[float]:
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]


def test_two_workers_report_every_prediction_in_one_scrape(
    mlflow_server: MlflowServer, model_name: str, start_api: Callable[..., str], tmp_path: Path
) -> None:
    summary = train_model(mlflow_server.uri, tmp_path / "summaries", model_name=model_name)
    base = start_api(mlflow_server, model_name, workers=2)
    deadline = time.monotonic() + 90
    ready = 0
    while time.monotonic() < deadline and ready < 10:  # both workers must have loaded: ask repeatedly
        ready = ready + 1 if requests.get(f"{base}/readyz", timeout=5).status_code == 200 else 0
        time.sleep(0.3)
    assert ready >= 10, "the workers did not all become ready"

    sent = 60
    for _ in range(sent):
        # A fresh connection each time (no session) so the kernel spreads requests over both workers.
        response = requests.post(f"{base}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
        assert response.status_code == 200

    for _ in range(3):  # whichever worker answers the scrape, the totals are the pod's
        text = requests.get(f"{base}/metrics", timeout=5).text
        predicted = _samples(text, f'mlstack_predictions_total{{model_version="{summary["version"]}"}}')
        assert predicted == [float(sent)]
        requests_total = sum(
            _samples(text, 'mlstack_http_requests_total{method="POST",route="/v1/predict",status="200"}')
        )
        assert requests_total == sent
        assert _samples(text, "mlstack_model_loaded ") == [1.0]
