"""Admission of large request bodies: a few at a time, the rest wait unread in the kernel.

A 1,000-record body is hundreds of kilobytes of JSON and several megabytes once parsed. If every
connection read and parsed its batch as soon as it arrived, 64 concurrent batches would hold all of
that at once while they queue for the one bulk thread, and a worker's memory would grow with its
concurrency until the container's limit kills it. Here a request that declares a body above
`threshold_bytes` (or declares no length) waits for one of `slots` before it reads a byte: uvicorn
stops reading that socket after its small buffer, so the waiting bodies cost the worker nothing.
Small bodies (single records, micro-batches) never wait. A client that trickles a large body holds
its slot for at most MLSTACK_BODY_TIMEOUT_SECONDS (then 408), like any other slow sender.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers


class LargeBodyGate:
    """Bounds how many large bodies a worker holds at once (per event loop, so per worker)."""

    def __init__(self, *, threshold_bytes: int, slots: int) -> None:
        self.threshold_bytes = threshold_bytes
        self.slots = asyncio.Semaphore(slots)

    def admits_at_once(self, headers: Headers) -> bool:
        """True for a body declared no larger than the threshold; those never wait for a slot."""
        declared = headers.get("content-length")
        if declared is None or not declared.isdigit():
            return False  # unknown length: treat as large (a bad number is refused after admission)
        return int(declared) <= self.threshold_bytes
