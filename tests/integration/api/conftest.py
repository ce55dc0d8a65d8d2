"""The API as a real `python -m api` process over HTTP, against the session's real `mlflow server`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import ManagedProcess, free_port, http_ok
from tests.support.services import MlflowServer

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def api_processes() -> list[ManagedProcess]:
    """The API processes `start_api` started in this test, in order (for tests that signal them)."""
    return []


@pytest.fixture
def start_api(tmp_path: Path, api_processes: list[ManagedProcess]) -> Iterator[Callable[..., str]]:
    """`start_api(server, model_name, workers=1)` -> base URL of a running API that refreshes every second."""
    started = api_processes

    def _start(server: MlflowServer, model_name: str, workers: int = 1) -> str:
        port = free_port()
        process = ManagedProcess(
            name=f"api-{port}",
            command=[
                sys.executable,
                "-m",
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            log_dir=tmp_path,
            ready=lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
            env={
                "MLFLOW_TRACKING_URI": server.uri,
                "MLSTACK_MODEL_NAME": model_name,
                "MLSTACK_REFRESH_SECONDS": "1",
                "MLSTACK_MODEL_CACHE_DIR": str(tmp_path / "cache"),
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{port}"),
                "PYTHONPATH": str(REPO_ROOT),
            },
            cwd=REPO_ROOT,
        )
        process.start()
        started.append(process)
        return f"http://127.0.0.1:{port}"

    yield _start
    for process in started:
        if process.running:
            process.stop()
