"""A steady client load for fault tests: threads that post predictions and record every outcome."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.iris import IRIS_ROW


@dataclass(frozen=True)
class Outcome:
    """One request: when it was sent, how long it took, its status (0: no HTTP answer) and version."""

    sent: float
    seconds: float
    status: int
    version: str
    error: str = ""


@dataclass
class SteadyLoad:
    """`with SteadyLoad(url) as load: ...` posts single-record predictions from `clients` threads.

    `rate` caps each thread's requests per second (None: as fast as answers come back).
    `new_connection_each` opens a fresh connection per request, so each may land on any worker.
    """

    url: str
    clients: int = 4
    rate: float | None = None
    new_connection_each: bool = False
    payload: dict[str, Any] = field(default_factory=lambda: {"inputs": IRIS_ROW})
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        interval = 1.0 / self.rate if self.rate else 0.0
        session = requests.Session()
        next_at = time.monotonic()
        while not self._stop.is_set():
            if self.new_connection_each:
                session.close()
                session = requests.Session()
            sent = time.monotonic()
            try:
                response = session.post(f"{self.url}/v1/predict", json=self.payload, timeout=10)
                version = response.headers.get("X-Model-Version", "")
                outcome = Outcome(
                    sent,
                    time.monotonic() - sent,
                    response.status_code,
                    version,
                    "" if response.ok else response.text[:200],
                )
            except requests.RequestException as exc:
                outcome = Outcome(sent, time.monotonic() - sent, 0, "", f"{type(exc).__name__}: {exc}"[:200])
            with self._lock:
                self.outcomes.append(outcome)
            if interval:
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        session.close()

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.snapshot() if o.status != 200]

    def versions_since(self, moment: float) -> set[str]:
        return {o.version for o in self.snapshot() if o.sent >= moment and o.status == 200}

    def wait_for_version(self, version: str, timeout: float) -> float:
        """Block until a response from `version` arrives; the monotonic time it was sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for outcome in self.snapshot():
                if outcome.version == version and outcome.status == 200:
                    return outcome.sent
            time.sleep(0.1)
        raise AssertionError(f"no response from version {version} within {timeout}s")
