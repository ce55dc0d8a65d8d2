"""The ASGI app factory. Nothing is loaded at import: collaborators are built or passed in here."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.admission import LargeBodyGate
from api.batching import MicroBatcher
from api.errors import ApiError, InvalidInput, error_response, handle_api_error
from api.manager import ModelManager, limit_malloc_arenas
from api.metrics import ApiMetrics
from api.middleware import ObservabilityMiddleware
from api.openapi import served_model_openapi
from api.routes import PREDICT_PATH, add_predict_route, health, v1
from api.settings import ApiSettings
from mlstack import __version__
from mlstack.logs import configure_logging
from mlstack.registry import Registry

logger = logging.getLogger("api")


def configure_mlflow_client(settings: ApiSettings) -> None:
    """Make MLflow's HTTP client fail fast: the refresher has its own backoff, and a down registry
    must be noticed within one refresh, not after MLflow's default minutes of retries."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(max(1, settings.registry_timeout_seconds))))


def create_app(
    settings: ApiSettings,
    *,
    manager: ModelManager | None = None,
    metrics: ApiMetrics | None = None,
    start_refresher: bool = True,
) -> FastAPI:
    """Build the app. Tests pass their own manager and drive `refresh_once()` themselves."""
    metrics = metrics or ApiMetrics()
    limit_malloc_arenas()  # before the app starts any thread
    if manager is None:
        configure_mlflow_client(settings)
        manager = ModelManager(settings, Registry(settings.tracking_uri), metrics)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start_refresher:
            await _first_load(manager, settings.startup_load_seconds)
        task = asyncio.create_task(manager.run()) if start_refresher else None
        yield
        manager.stop()
        bulk_executor.shutdown(wait=False, cancel_futures=True)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="mlstack model API",
        version=__version__,
        description=f"Serves models:/{settings.model_name}@{settings.model_alias} from the MLflow registry.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # Metrics are ours (Prometheus, api/metrics.py). FastAPI's native OpenTelemetry would look up
        # three global providers on every request only to find them unconfigured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.manager = manager
    app.state.metrics = metrics
    # One thread for large batches: the worker has one CPU's worth of work to give them anyway.
    bulk_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-predict")
    app.state.bulk_executor = bulk_executor
    app.state.large_bodies = LargeBodyGate(
        threshold_bytes=settings.large_body_bytes, slots=settings.large_body_slots
    )
    app.state.batcher = (
        MicroBatcher(max_rows=settings.micro_batch_max_rows, max_wait_s=settings.micro_batch_wait_ms / 1000)
        if settings.micro_batching
        else None
    )
    add_predict_route(app)
    app.include_router(health)
    app.include_router(v1)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.openapi = served_model_openapi(app, manager, settings.max_batch)  # type: ignore[method-assign]
    routes = [PREDICT_PATH, *(route.path for router in (health, v1) for route in router.routes)]
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, routes=routes)
    return app


async def _first_load(manager: ModelManager, timeout_s: float) -> None:
    """Load the served version before uvicorn lets this worker accept connections. A registry that is
    down or has no version yet returns at once (the worker then starts not ready and keeps trying)."""
    if timeout_s <= 0:
        return
    try:
        await asyncio.wait_for(manager.refresh_once(), timeout=timeout_s)
    except TimeoutError:
        logger.warning("first model load still running after %ss; accepting connections", timeout_s)


async def _validation_error(request, exc: Exception):  # type: ignore[no-untyped-def]
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    error = InvalidInput(first.get("msg", "invalid request"), field=field)
    return error_response(error, getattr(request.state, "request_id", None))


async def _http_error(request, exc: Exception):  # type: ignore[no-untyped-def]
    assert isinstance(exc, StarletteHTTPException)
    error = ApiError(str(exc.detail))
    error.status_code = exc.status_code
    error.code = "not_found" if exc.status_code == 404 else "http_error"
    return error_response(error, getattr(request.state, "request_id", None))


def create_app_from_env() -> FastAPI:
    """The uvicorn factory (`api.app:create_app_from_env`): settings from the environment."""
    settings = ApiSettings()
    configure_logging(settings.log_level)
    return create_app(settings)
