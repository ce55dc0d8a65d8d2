"""A plain ASGI middleware (cheaper than BaseHTTPMiddleware) for request ids and request metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ApiMetrics

REQUEST_ID_HEADER = b"x-request-id"
# A caller's request id is echoed only if it is short and plain, so it cannot inject into logs.
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class ObservabilityMiddleware:
    """Give every request an id (echoed in `X-Request-ID`) and count and time it by route."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, routes: Iterable[str]) -> None:
        self.app = app
        self.metrics = metrics
        # Label by the known route, never the raw path: unknown paths must not grow the label set.
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            route = path if path in self.routes else "other"
            self.metrics.observe_request(route, scope["method"], status, time.perf_counter() - started)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex
