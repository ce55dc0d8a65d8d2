"""An API worker SIGKILLed under load: the other worker keeps serving, uvicorn replaces the dead one,
and the pod's metrics stay consistent (counters keep what the dead worker counted, its gauges go)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.api import ApiProcess
from tests.support.load import SteadyLoad
from tests.support.services import MlflowServer
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration

CLIENTS = 4


def test_a_worker_killed_under_load(
    embedded: MlflowServer, model_name: str, start_api: Callable[..., ApiProcess], tmp_path: Path
) -> None:
    train_model(embedded.uri, tmp_path, model_name=model_name)
    api = start_api(embedded.uri, model_name, workers=2)
    deadline = time.monotonic() + 60
    while len(api.worker_pids()) < 2 or api.metric("mlstack_model_loaded") != 1:
        assert time.monotonic() < deadline, "the two workers never both loaded the model"
        time.sleep(0.2)
    workers = api.worker_pids()
    victim = min(workers)
    metrics_dir = Path(api.process._env["PROMETHEUS_MULTIPROC_DIR"])
    assert list(metrics_dir.glob(f"gauge_live*_{victim}.db")), "the victim never wrote its gauges"

    # A new connection per request, as a Service's load balancing gives: each may land on either worker.
    with SteadyLoad(api.url, clients=CLIENTS, new_connection_each=True) as load:
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + 30
        while not (len(api.worker_pids()) == 2 and victim not in api.worker_pids()):
            assert time.monotonic() < deadline, "uvicorn never replaced the killed worker"
            time.sleep(0.2)
        time.sleep(3.0)

    outcomes = load.snapshot()
    answered = [o for o in outcomes if o.status != 0]
    unanswered = [o for o in outcomes if o.status == 0]
    assert all(o.status == 200 for o in answered), {o.status for o in answered}
    # Only requests in flight on the victim at the moment it died can go unanswered.
    assert len(unanswered) <= CLIENTS, unanswered
    assert all(abs(o.sent - killed_at) < 2.0 for o in unanswered), unanswered
    after = [o for o in answered if o.sent > killed_at + 0.5]
    assert len(after) > 50, "the surviving worker did not keep serving"

    # Counters: what both workers counted, the dead one included, matches what clients saw answered
    # (a request the victim counted just before dying may have lost its answer: at most the unanswered).
    deadline = time.monotonic() + 30
    while api.metric("mlstack_model_loaded") != 1:  # the replacement has loaded the model too
        assert time.monotonic() < deadline, "the replacement worker never loaded the model"
        time.sleep(0.2)
    counted = api.metric("mlstack_http_requests_total", route="/v1/predict", status="200")
    assert len(answered) <= counted <= len(answered) + len(unanswered)
    assert not list(metrics_dir.glob(f"gauge_live*_{victim}.db")), "the dead worker's gauges were kept"
