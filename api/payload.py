"""Turning a /v1/predict HTTP body into records: content type, size limit, JSON, envelope, batch limit."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request

from api.errors import (
    InvalidInput,
    MalformedRequest,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    echo,
)


def check_content_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {media_type or 'none'}", field="Content-Type"
        )


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The body, refusing (413) a declared or streamed size above `limit` without buffering more, and
    (408) a body still incomplete after `timeout_s`: a client trickling bytes cannot hold a request open."""
    try:
        async with asyncio.timeout(timeout_s):
            return await _read_limited(request, limit)
    except TimeoutError:
        raise RequestTimeout(f"the body was not received within {timeout_s:g}s", field="body") from None


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise MalformedRequest("Content-Length is not a number", field="Content-Length") from None
        if size > limit:
            raise PayloadTooLarge(f"body of {size} bytes is over the limit of {limit}", field="body")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_records(body: bytes, max_batch: int) -> list[Any]:
    """`{"inputs": {...}}` (one record) or `{"instances": [{...}, ...]}` (a batch) -> list of records."""
    if not body:
        raise MalformedRequest("the body is empty; send a JSON object", field="body")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(payload, dict):
        raise InvalidInput('the body must be a JSON object with "inputs" or "instances"', field="body")
    unknown = sorted(set(payload) - {"inputs", "instances"})
    if unknown:
        raise InvalidInput(f"unknown top-level field {echo(unknown[0])!r}", field=echo(unknown[0]))
    if ("inputs" in payload) == ("instances" in payload):
        raise InvalidInput(
            'send exactly one of "inputs" (one record) or "instances" (a batch)', field="inputs"
        )
    if "inputs" in payload:
        record = payload["inputs"]
        if not isinstance(record, dict):
            raise InvalidInput('"inputs" must be one object keyed by feature name', field="inputs")
        return [record]
    records = payload["instances"]
    if not isinstance(records, list):
        raise InvalidInput('"instances" must be a list of objects', field="instances")
    if not records:
        raise InvalidInput('"instances" is empty; send at least one record', field="instances")
    if len(records) > max_batch:
        raise PayloadTooLarge(
            f"{len(records)} records is over the batch limit of {max_batch}", field="instances"
        )
    return records
