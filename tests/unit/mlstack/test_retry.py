from __future__ import annotations

import logging

import pytest

from mlstack.retry import DependencyUnavailable, retry_call


class FakeClock:
    """Time that only moves when the code under test sleeps, so backoff is checked exactly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_returns_once_the_call_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    attempts = iter([ConnectionError("refused"), ConnectionError("refused"), "ok"])

    def call() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with caplog.at_level(logging.WARNING, logger="mlstack.retry"):
        assert retry_call(call, what="db", timeout_s=30, sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == [0.5, 1.0]
    assert [record.attempt for record in caplog.records] == [1, 2]  # type: ignore[attr-defined]


def test_gives_up_after_the_budget_with_a_sentence() -> None:
    clock = FakeClock()

    def call() -> None:
        raise ConnectionError("connection refused")

    with pytest.raises(DependencyUnavailable, match=r"db is unreachable after \d+ attempts over 10s"):
        retry_call(call, what="db", timeout_s=10, sleep=clock.sleep, clock=clock, max_delay_s=4)
    assert sum(clock.sleeps) == pytest.approx(10)
    assert max(clock.sleeps) <= 4


def test_other_errors_are_not_retried() -> None:
    def call() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        retry_call(call, what="db", timeout_s=10, retry_on=(ConnectionError,))
