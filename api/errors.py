"""One exception family that carries its HTTP status, and the one handler that renders it.

Every client error names what was wrong (`field`, and `index` for the record in a batch), so a caller
can fix the request without reading server logs.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

# Client-supplied names are echoed in errors only this long: an error must not mirror a huge request.
MAX_ECHO = 80


def echo(text: object) -> str:
    """A client-supplied name as it may appear in an error: cut to MAX_ECHO characters."""
    shown = str(text)
    return shown if len(shown) <= MAX_ECHO else shown[:MAX_ECHO] + "…"


class ApiError(Exception):
    """An error with an HTTP status and a machine-readable code; subclasses fix the status."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.index is not None:
            error["index"] = self.index
        return {"error": error}


class MalformedRequest(ApiError):
    status_code = 400
    code = "malformed_request"


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class RequestTimeout(ApiError):
    status_code = 408
    code = "request_timeout"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class InvalidInput(ApiError):
    status_code = 422
    code = "invalid_input"


class ModelNotReady(ApiError):
    status_code = 503
    code = "model_not_ready"


def error_response(error: ApiError, request_id: str | None = None) -> Response:
    body = error.body()
    if request_id:
        body["request_id"] = request_id
    headers: dict[str, str] | None = None
    if isinstance(error, ModelNotReady):
        headers = {"Retry-After": "5"}
    elif isinstance(error, (RequestTimeout, PayloadTooLarge)):
        # The rest of the body was never read: close rather than keep a connection whose next bytes
        # are the tail of the refused body (and let a slow sender go).
        headers = {"Connection": "close"}
    return Response(
        orjson.dumps(body), status_code=error.status_code, media_type="application/json", headers=headers
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, getattr(request.state, "request_id", None))
