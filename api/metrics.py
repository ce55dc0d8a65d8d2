"""Prometheus metrics of one API process, and their exposition for the whole pod.

With several uvicorn workers, PROMETHEUS_MULTIPROC_DIR is set (by `python -m api`) before any
worker starts; every worker then writes its samples there and a scrape of any worker aggregates
all of them, so one scrape sees the pod.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

logger = logging.getLogger("api.metrics")

# `*_created` series double the exposition and no alert or dashboard of ours reads them.
disable_created_metrics()

# Routes whose latency is not worth a histogram: probes and scrapes would drown the real traffic.
UNTIMED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def reap_dead_workers(directory: str) -> list[int]:
    """Drop the live-gauge files of workers that no longer exist (killed, OOM, replaced by uvicorn),
    so `mlstack_model_loaded` and `mlstack_registry_reachable` describe the workers serving now.
    Their counters stay: requests a dead worker answered were answered."""
    dead = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            dead.add(pid)
    for pid in dead:
        mark_process_dead(pid, directory)
    return sorted(dead)


def preallocate_metric_files(directory: str, pid: int) -> None:
    """Give this worker's metric files real disk blocks now. prometheus_client creates them sparse
    and writes through mmap: on a full disk, the first write to an unbacked page is a SIGBUS that
    kills the worker. Allocated blocks keep a worker serving (and counting) when the disk fills up."""
    for path in Path(directory).glob(f"*_{pid}.db"):
        try:
            with path.open("r+b") as handle:
                os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        except OSError as exc:
            logger.warning("cannot preallocate metrics file", extra={"file": str(path), "error": str(exc)})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ApiMetrics:
    """The metric families named in the chart's alerts and dashboard; one instance per app."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "mlstack_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "mlstack_http_request_duration_seconds",
            "Request latency by route, method and status (health and metrics routes excluded).",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "mlstack_predictions",
            "Records predicted, by the model version that predicted them.",
            ["model_version"],
            registry=r,
        )
        self.model_info = Gauge(
            "mlstack_model_info",
            "1 for the model version being served (0 for versions served before).",
            ["name", "version", "run_id"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.model_loaded = Gauge(
            "mlstack_model_loaded",
            "1 while a model is loaded and serving.",
            multiprocess_mode="livemin",
            registry=r,
        )
        self.reloads = Counter("mlstack_model_reloads", "Model loads by result.", ["result"], registry=r)
        self.registry_reachable = Gauge(
            "mlstack_registry_reachable",
            "1 if the last registry look-up succeeded.",
            multiprocess_mode="livemin",
            registry=r,
        )
        self.last_refresh = Gauge(
            "mlstack_last_refresh_timestamp_seconds",
            "Unix time of the last successful registry look-up.",
            multiprocess_mode="livemax",
            registry=r,
        )
        # `labels()` takes a lock and validates its arguments on every call; the hot paths keep the
        # children they use (routes and statuses are a small fixed set, versions one per swap).
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram | None]] = {}
        self._prediction_children: dict[str, Counter] = {}
        for result in ("success", "failure"):
            self.reloads.labels(result)
        self.model_loaded.set(0)
        self.registry_reachable.set(0)
        self.latency.labels("/v1/predict", "POST", "200")  # creates the histogram's file now
        self.preallocate()

    def preallocate(self) -> None:
        """Back this worker's metric files with disk blocks (multiprocess mode only)."""
        if directory := multiprocess_dir():
            preallocate_metric_files(directory, os.getpid())

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:  # first request of this kind: look the children up once
            status_label = str(status)
            children = (
                self.requests.labels(route, method, status_label),
                None if route in UNTIMED_ROUTES else self.latency.labels(route, method, status_label),
            )
            self._request_children[key] = children
        children[0].inc()
        if children[1] is not None:
            children[1].observe(seconds)

    def count_predictions(self, version: str, rows: int) -> None:
        child = self._prediction_children.get(version)
        if child is None:
            child = self._prediction_children[version] = self.predictions.labels(version)
        child.inc(rows)

    def registry_seen(self, reachable: bool) -> None:
        self.registry_reachable.set(1 if reachable else 0)
        if reachable:
            self.last_refresh.set(time.time())

    def model_swapped(self, old: tuple[str, str, str] | None, new: tuple[str, str, str]) -> None:
        if old is not None:
            self.model_info.labels(*old).set(0)
        self.model_info.labels(*new).set(1)
        self.model_loaded.set(1)
        self.preallocate()  # a new version label may have grown a file

    def render(self) -> bytes:
        """Prometheus text for this process, or for every worker of the pod in multiprocess mode."""
        if directory := multiprocess_dir():
            reap_dead_workers(directory)
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
