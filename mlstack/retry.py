"""Bounded, logged retry for waiting on a dependency (MLflow, Postgres, MinIO) that may start later."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger("mlstack.retry")


class DependencyUnavailable(RuntimeError):
    """A dependency stayed unreachable for the whole retry budget."""


def retry_call(
    fn: Callable[[], T],
    *,
    what: str,
    timeout_s: float,
    initial_delay_s: float = 0.5,
    max_delay_s: float = 5.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `fn` until it succeeds or `timeout_s` passes, doubling the delay between attempts.

    Each failed attempt is logged with its number and error; when the budget is spent the last
    error is wrapped in `DependencyUnavailable` with a sentence naming `what`.
    """
    deadline = clock() + timeout_s
    delay = initial_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except retry_on as exc:
            remaining = deadline - clock()
            if remaining <= 0:
                raise DependencyUnavailable(
                    f"{what} is unreachable after {attempt} attempts over {timeout_s:g}s: {exc}"
                ) from exc
            logger.warning(
                "waiting for %s", what, extra={"attempt": attempt, "error": str(exc), "retry_in_s": delay}
            )
            sleep(min(delay, remaining))
            delay = min(delay * 2, max_delay_s)
