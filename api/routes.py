"""The HTTP surface: thin handlers that parse, ask the manager or the model, and shape the answer."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from api.deps import ManagerDep, MetricsDep, check_api_key
from api.errors import ModelNotReady
from api.payload import check_content_type, parse_records, read_body

logger = logging.getLogger("api.routes")

# Batches up to this many records are predicted on the event loop (microseconds of work, coalesced
# by the micro-batcher); larger ones go to the app's single bulk thread, so one big request cannot
# stall every other connection and several cannot thrash one CPU between them.
INLINE_BATCH = 64

_PREDICT_BODY_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"inputs": {"type": "object", "additionalProperties": True}},
            "required": ["inputs"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "instances": {
                    "type": "array",
                    "items": {"type": "object", "additionalProperties": True},
                    "minItems": 1,
                }
            },
            "required": ["instances"],
            "additionalProperties": False,
        },
    ]
}
_PREDICT_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _PREDICT_BODY_SCHEMA}},
        "description": "One record keyed by feature name, or a batch of them. GET /v1/model lists the features.",
    }
}

PREDICT_PATH = "/v1/predict"
health = APIRouter(tags=["health"])
v1 = APIRouter(prefix="/v1", tags=["model"])
_sample = itertools.count()


def _json(payload: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status_code, media_type="application/json", headers=headers
    )


@health.get("/healthz", summary="200 while the process serves")
async def healthz() -> Response:
    return _json({"status": "ok"})


@health.get("/readyz", summary="200 with the model version, or 503 with the reason")
async def readyz(manager: ManagerDep) -> Response:
    ready, body = manager.readiness()
    return _json(body, status_code=200 if ready else 503)


@health.get("/metrics", summary="Prometheus text", include_in_schema=False)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=metrics.content_type)


@v1.get("/model", summary="The version being served, its metrics and input schema")
async def model_info(request: Request, manager: ManagerDep) -> Response:
    check_api_key(request)
    model = manager.current
    if model is None:
        raise ModelNotReady(manager.readiness()[1]["reason"])
    meta = model.metadata
    return _json(
        {
            "name": meta.name,
            "version": meta.version,
            "alias": meta.alias,
            "run_id": meta.run_id,
            "source": meta.source,
            "metrics": meta.metrics,
            "dataset_fingerprint": meta.dataset_fingerprint,
            "input_schema": model.schema.describe(),
            "record_json_schema": model.schema.json_schema(),
            "classes": model.classes,
            "loaded_at": meta.loaded_at.isoformat(),
        }
    )


class PlainRequestRoute(APIRoute):
    """An APIRoute whose endpoint takes the Request and returns a Response itself. FastAPI still
    documents it in OpenAPI, but calls it directly instead of resolving dependencies and parameters
    per request, which cost a third of a single-record prediction."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


async def predict(request: Request) -> Response:
    # Collaborators straight from app.state: no FastAPI dependencies on the hot path (see check_api_key).
    check_api_key(request)
    check_content_type(request)
    state = request.app.state
    gate = state.large_bodies
    if gate.admits_at_once(request.headers):
        return await _predict(request, state)
    async with gate.slots:  # a large body waits here unread (api/admission.py)
        return await _predict(request, state)


async def _predict(request: Request, state: Any) -> Response:
    manager, settings, metrics = state.manager, state.settings, state.metrics
    raw = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    records = parse_records(raw, settings.max_batch)
    model = manager.current  # taken once: a swap during this request does not change our model
    if model is None:
        raise ModelNotReady(manager.readiness()[1]["reason"])
    rows = len(records)
    # Validated here, before any await: the parsed records (Python objects, ~100x the size of the
    # matrix they become) never wait in a queue, so concurrent large batches cannot pile them up.
    features = model.validate(records)
    del records
    if rows > INLINE_BATCH:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(state.bulk_executor, model.predict_features, features)
    elif (batcher := state.batcher) is not None:
        result = await batcher.predict(model, features)
    else:
        result = model.predict_features(features)
    metrics.count_predictions(model.version, rows)
    request_id = request.state.request_id
    body: dict[str, Any] = {"predictions": result.predictions, "model_version": model.version}
    if result.probabilities is not None:
        body["probabilities"] = result.probabilities
        body["classes"] = result.classes
    body["request_id"] = request_id
    _log_prediction(request_id, model.version, rows, settings.log_sample_rate)
    return _json(body, headers={"X-Model-Version": model.version})


def add_predict_route(app: FastAPI) -> None:
    """POST /v1/predict as the app's first route: routes are matched in order, and this one carries
    the traffic (a route of an included router would be matched in two steps)."""
    app.router.add_api_route(
        PREDICT_PATH,
        predict,
        methods=["POST"],
        tags=v1.tags,
        summary="Predict one record or a batch",
        openapi_extra=_PREDICT_OPENAPI,
        route_class_override=PlainRequestRoute,
    )
    routes = app.router.routes
    routes.insert(0, routes.pop())


def _log_prediction(request_id: str, version: str, rows: int, sample_rate: int) -> None:
    extra = {"request_id": request_id, "model_version": version, "rows": rows}
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("predicted", extra=extra)
    elif sample_rate and next(_sample) % sample_rate == 0 and logger.isEnabledFor(logging.INFO):
        logger.info("predicted (sampled 1 in %d)", sample_rate, extra=extra)
