"""The gate lock against a real MLflow registry store (SQLite, in process): exclusive, expiring, polite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from training.gate_lock import TAG_OWNER, GateLock, GateLockTimeout, lock_name


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    store = tmp_path_factory.mktemp("registry") / "mlflow.db"
    uri = f"sqlite:///{Path(store)}"
    yield MlflowClient(tracking_uri=uri, registry_uri=uri)


class FakeTime:
    """Time that moves only when someone sleeps, so waiting is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _lock(client: MlflowClient, model: str, owner: str, time: FakeTime, **kwargs: float) -> GateLock:
    options = {"ttl_s": 60.0, "timeout_s": 5.0, **kwargs}
    return GateLock(client, model, owner=owner, clock=time.clock, sleep=time.sleep, **options)


def test_the_lock_exists_only_while_held(client: MlflowClient) -> None:
    time = FakeTime()
    lock = _lock(client, "held-model", "trainer-a", time)
    with lock.held():
        holder = client.get_registered_model(lock_name("held-model"))
        assert holder.tags[TAG_OWNER] == "trainer-a"
    assert client.search_registered_models(f"name = '{lock_name('held-model')}'") == []


def test_a_second_trainer_waits_then_gives_up_naming_the_holder(client: MlflowClient) -> None:
    time = FakeTime()
    first = _lock(client, "busy-model", "trainer-a", time)
    second = _lock(client, "busy-model", "trainer-b", time, timeout_s=3.0)
    first.acquire()
    try:
        with pytest.raises(GateLockTimeout, match="still held by trainer-a after waiting 3s"):
            second.acquire()
        assert time.now >= 1_000_003.0  # it did wait, in poll steps
    finally:
        first.release()
    second.acquire()  # free now
    second.release()


def test_an_expired_lock_of_a_killed_trainer_is_taken_over(client: MlflowClient) -> None:
    time = FakeTime()
    killed = _lock(client, "stale-model", "killed-trainer", time, ttl_s=10.0)
    killed.acquire()  # never released: its trainer died
    time.now += 11.0
    successor = _lock(client, "stale-model", "trainer-b", time, timeout_s=0.0)
    successor.acquire()
    assert client.get_registered_model(lock_name("stale-model")).tags[TAG_OWNER] == "trainer-b"
    killed.release()  # the late release of the dead holder must not free the successor's lock
    assert client.get_registered_model(lock_name("stale-model")).tags[TAG_OWNER] == "trainer-b"
    successor.release()
