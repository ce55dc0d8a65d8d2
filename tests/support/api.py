"""The API as a real `python -m api` process, and what tests read off it: readiness, metrics, workers."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import requests

from tests.support.processes import ManagedProcess, free_port, http_ok

REPO_ROOT = Path(__file__).resolve().parents[2]


class ApiProcess:
    """`python -m api` bound to a free loopback port, following `model_name@production` on `tracking_uri`."""

    def __init__(
        self,
        log_dir: Path,
        tracking_uri: str,
        model_name: str,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            name=f"api-{self.port}",
            command=[sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(self.port),
                     "--workers", str(workers)],
            log_dir=log_dir,
            ready=lambda: http_ok(f"{self.url}/healthz"),
            env={
                "MLFLOW_TRACKING_URI": tracking_uri,
                "MLSTACK_MODEL_NAME": model_name,
                "MLSTACK_REFRESH_SECONDS": "1",
                "MLSTACK_MODEL_CACHE_DIR": str(log_dir / f"cache-{self.port}"),
                "PROMETHEUS_MULTIPROC_DIR": str(log_dir / f"metrics-{self.port}"),
                "PYTHONPATH": str(REPO_ROOT),
                **(env or {}),
            },
            cwd=REPO_ROOT,
        )  # fmt: skip

    def start(self) -> ApiProcess:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    def wait_ready(self, timeout: float = 60.0) -> dict:
        """Block until /readyz answers 200; its body."""
        deadline = time.monotonic() + timeout
        while True:
            response = requests.get(f"{self.url}/readyz", timeout=5)
            if response.status_code == 200:
                return response.json()
            assert time.monotonic() < deadline, f"API not ready after {timeout}s: {response.text}"
            time.sleep(0.2)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
        text = requests.get(f"{self.url}/metrics", timeout=5).text
        total = 0.0
        for line in text.splitlines():
            match = re.match(r"^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$", line)
            if not match or match.group(1) != name:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(key) == value for key, value in labels.items()):
                total += float(match.group(3))
        return total

    def worker_pids(self) -> set[int]:
        """PIDs of the uvicorn workers: the children of the supervising `python -m api` process."""
        pid = self.process.pid
        assert pid is not None
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(child) for child in children if _is_worker(int(child))}


def _is_worker(pid: int) -> bool:
    """A spawned uvicorn worker, not multiprocessing's resource tracker (also a child)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in cmdline and b"resource_tracker" not in cmdline


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")
