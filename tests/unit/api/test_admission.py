"""Large bodies are admitted a few at a time and wait unread; small ones never wait.

Driven with raw ASGI calls so each test decides when a body arrives: a request whose body the
server has not asked for yet is one that waits in the kernel, not in the worker's memory.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI

from tests.support.iris import IRIS_ROW
from tests.unit.api.conftest import AppFactory

pytestmark = pytest.mark.anyio

THRESHOLD = 1024


@dataclass
class Call:
    """One request in flight: its body is handed over only once `release` is set."""

    body: bytes
    declared_length: bool = True
    release: asyncio.Event = field(default_factory=asyncio.Event)
    body_asked: bool = False
    status: int | None = None
    response: bytes = b""

    async def run(self, app: FastAPI) -> None:
        headers = [(b"host", b"api"), (b"content-type", b"application/json")]
        if self.declared_length:
            headers.append((b"content-length", str(len(self.body)).encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/predict", "raw_path": b"/v1/predict", "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("api", 80),
        }  # fmt: skip
        delivered = False

        async def receive() -> dict:
            nonlocal delivered
            self.body_asked = True
            if delivered:
                await asyncio.Event().wait()  # no disconnect during the test
            await self.release.wait()
            delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                self.response += message.get("body", b"")

        await app(scope, receive, send)


def _batch(rows: int) -> bytes:
    body = json.dumps({"instances": [IRIS_ROW] * rows}).encode()
    assert len(body) > THRESHOLD
    return body


async def _turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.fixture
async def gated_app(make_app: AppFactory, iris_model: str) -> FastAPI:
    app = make_app(iris_model, large_body_bytes=THRESHOLD, large_body_slots=1)
    assert await app.state.manager.refresh_once()
    return app


async def test_a_second_large_body_waits_unread_until_the_first_is_answered(gated_app: FastAPI) -> None:
    first, second = Call(_batch(100)), Call(_batch(100))
    second.release.set()  # its body is there at once: only the gate can keep it unread
    first_task = asyncio.create_task(first.run(gated_app))
    await _turns()
    second_task = asyncio.create_task(second.run(gated_app))
    await _turns()
    assert first.body_asked and not second.body_asked

    first.release.set()
    await asyncio.wait_for(asyncio.gather(first_task, second_task), timeout=30)
    assert (first.status, second.status) == (200, 200)
    assert len(json.loads(second.response)["predictions"]) == 100


async def test_small_bodies_pass_while_every_large_slot_is_taken(gated_app: FastAPI) -> None:
    large = Call(_batch(100))
    large_task = asyncio.create_task(large.run(gated_app))
    await _turns()
    small = Call(json.dumps({"inputs": IRIS_ROW}).encode())
    small.release.set()
    await asyncio.wait_for(small.run(gated_app), timeout=30)
    assert small.status == 200, small.response
    assert not large_task.done()

    large.release.set()
    await asyncio.wait_for(large_task, timeout=30)
    assert large.status == 200


async def test_a_body_of_unknown_length_counts_as_large(gated_app: FastAPI) -> None:
    large = Call(_batch(100))
    large_task = asyncio.create_task(large.run(gated_app))
    await _turns()
    chunked = Call(json.dumps({"inputs": IRIS_ROW}).encode(), declared_length=False)
    chunked.release.set()
    chunked_task = asyncio.create_task(chunked.run(gated_app))
    await _turns()
    assert not chunked.body_asked

    large.release.set()
    await asyncio.wait_for(asyncio.gather(large_task, chunked_task), timeout=30)
    assert (large.status, chunked.status) == (200, 200)


async def test_a_refused_large_body_frees_its_slot(gated_app: FastAPI) -> None:
    broken = Call(b"{" + b" " * (2 * THRESHOLD))
    broken.release.set()
    await asyncio.wait_for(broken.run(gated_app), timeout=30)
    assert broken.status == 400
    after = Call(_batch(10))
    after.release.set()
    await asyncio.wait_for(after.run(gated_app), timeout=30)
    assert after.status == 200
