"""The API as a real `python -m api` process over HTTP, against the session's real `mlflow server`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.api import ApiProcess
from tests.support.processes import ManagedProcess
from tests.support.services import MlflowServer


@pytest.fixture
def api_processes() -> list[ManagedProcess]:
    """The API processes `start_api` started in this test, in order (for tests that signal them)."""
    return []


@pytest.fixture
def start_api(tmp_path: Path, api_processes: list[ManagedProcess]) -> Iterator[Callable[..., str]]:
    """`start_api(server, model_name, workers=1)` -> base URL of a running API that refreshes every second."""

    def _start(server: MlflowServer, model_name: str, workers: int = 1) -> str:
        api = ApiProcess(tmp_path, server.uri, model_name, workers=workers).start()
        api_processes.append(api.process)
        return api.url

    yield _start
    for process in api_processes:
        if process.running:
            process.stop()
