"""Which model is served: the refresher that follows the registry alias and swaps versions.

Readiness is derived from what is loaded, not kept in a flag: the API is ready exactly while
`current` holds a model. A new version is loaded and warmed in a worker thread while the old one
keeps serving; the swap is one reference assignment, so a request that already took the old
model finishes on it. A version that fails to load is retried with backoff and never swapped in.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.metrics import ApiMetrics
from api.model import LoadedModel, ModelLoadError, load_version
from api.settings import ApiSettings
from mlstack.registry import ModelVersionRef, Registry, RegistryUnavailable

# glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas: by default every thread that allocates (the model loader, the bulk
    predictor, asyncio's executor) may get its own, which holds freed memory as RSS. glibc only."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)


def release_free_memory() -> None:
    """Hand the heap pages freed by a load (download buffers, the old model) back to the OS, so a
    worker's RSS reflects what it serves. glibc only; elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


logger = logging.getLogger("api.manager")

Loader = Callable[[ModelVersionRef, str, dict[str, float]], LoadedModel]


@dataclass
class _Failure:
    """A version that failed to load, and when it may be tried again."""

    version: str
    message: str
    attempts: int
    retry_at: float


class ModelManager:
    """Holds the served model and keeps it in step with `models:/NAME@ALIAS`."""

    def __init__(
        self,
        settings: ApiSettings,
        registry: Registry,
        metrics: ApiMetrics,
        loader: Loader | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._metrics = metrics
        self._loader = loader or self._load_from_registry
        self._clock = clock
        self._current: LoadedModel | None = None
        self._reason = "starting: the registry has not been asked yet"
        self._loading: str | None = None
        self._failure: _Failure | None = None
        self._registry_error: str | None = None
        self._consecutive_failures = 0
        self._stopping = asyncio.Event()

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, body) for /readyz: ready with the version, or not ready with the reason."""
        model = self._current
        detail: dict[str, Any] = {}
        if self._loading:
            detail["loading"] = self._loading
        if self._failure:
            detail["last_load_failure"] = self._failure.message
        if self._registry_error:
            detail["registry"] = f"unreachable: {self._registry_error}"
        if model is None:
            return False, {"status": "not ready", "reason": self._reason, **detail}
        return True, {"status": "ready", "model": model.metadata.name, "version": model.version, **detail}

    async def refresh_once(self) -> bool:
        """Resolve the alias once and load the version behind it if it changed; True if all went well."""
        settings = self._settings
        try:
            ref = await asyncio.to_thread(
                self._registry.version_for_alias, settings.model_name, settings.model_alias
            )
        except RegistryUnavailable as exc:
            self._registry_error = str(exc)[:300]
            self._metrics.registry_seen(False)
            if self._current is None:
                self._reason = f"registry unreachable: {self._registry_error}"
            logger.warning("registry unreachable", extra={"error": self._registry_error})
            return False
        self._registry_error = None
        self._metrics.registry_seen(True)
        if ref is None:
            if self._current is None:
                self._reason = (
                    f"no version behind alias {settings.model_alias} of model {settings.model_name}"
                )
            return True
        if self._current is not None and self._current.version == ref.version:
            return True
        failure = self._failure
        if failure and failure.version == ref.version and self._clock() < failure.retry_at:
            return False
        return await self._load_and_swap(ref)

    async def _load_and_swap(self, ref: ModelVersionRef) -> bool:
        self._loading = ref.version
        if self._current is None:
            self._reason = f"loading version {ref.version}"
        logger.info("loading version", extra={"version": ref.version, "model": ref.name})
        started = time.perf_counter()
        try:
            model = await asyncio.to_thread(self._load, ref)
        except ModelLoadError as exc:
            self._record_failure(ref.version, str(exc))
            return False
        finally:
            self._loading = None
        old = self._current
        self._current = model  # the swap: requests already holding `old` finish on it
        self._failure = None
        old_labels = None if old is None else self._info_labels(old)
        self._metrics.model_swapped(old_labels, self._info_labels(model))
        self._metrics.reloads.labels("success").inc()
        # Long-lived model objects need not be scanned by every collection; this keeps p99 steady.
        # Unfreeze first so the previous model, once its last request is done, can still be collected.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        release_free_memory()
        logger.info(
            "serving version",
            extra={
                "version": model.version,
                "previous": old.version if old else None,
                "load_seconds": round(time.perf_counter() - started, 3),
                "fast_path": model.uses_fast_path,
            },
        )
        return True

    def _load(self, ref: ModelVersionRef) -> LoadedModel:
        try:
            metrics = self._registry.run_metrics(ref.run_id)
        except RegistryUnavailable as exc:
            raise ModelLoadError(f"version {ref.version}: run metrics unavailable: {exc}") from exc
        return self._loader(ref, self._settings.model_alias, metrics)

    def _load_from_registry(self, ref: ModelVersionRef, alias: str, metrics: dict[str, float]) -> LoadedModel:
        return load_version(ref, alias, metrics, self._settings.model_cache_dir)

    def _record_failure(self, version: str, message: str) -> None:
        previous = self._failure
        attempts = previous.attempts + 1 if previous and previous.version == version else 1
        delay = min(self._settings.refresh_seconds * 2**attempts, self._settings.max_backoff_seconds)
        self._failure = _Failure(version, f"load failed: {message}"[:500], attempts, self._clock() + delay)
        if self._current is None:
            self._reason = self._failure.message
        self._metrics.reloads.labels("failure").inc()
        logger.error(
            "load failed; keeping the current model", extra={"version": version, "error": message[:500]}
        )

    @staticmethod
    def _info_labels(model: LoadedModel) -> tuple[str, str, str]:
        return model.metadata.name, model.version, model.metadata.run_id or ""

    async def run(self) -> None:
        """Refresh forever: every `refresh_seconds`, backing off after failures up to the maximum."""
        while not self._stopping.is_set():
            try:
                ok = await self.refresh_once()
            except Exception:
                logger.exception("refresh failed unexpectedly")
                ok = False
            self._consecutive_failures = 0 if ok else self._consecutive_failures + 1
            delay = min(
                self._settings.refresh_seconds * 2 ** min(self._consecutive_failures, 10),
                max(self._settings.max_backoff_seconds, self._settings.refresh_seconds),
            )
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                continue

    def stop(self) -> None:
        self._stopping.set()
