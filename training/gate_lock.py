"""A lock in the model registry that serialises the gate: read the champion, decide, move the alias.

Two trainer Jobs finishing at once would otherwise both read the same champion and both move the
alias (a lost update). MLflow has no compare-and-set, but creating a registered model is atomic on
its unique name, so the lock is a registered model `<name>.gate-lock` that exists while a trainer
gates. It carries its holder and an expiry: a trainer killed while holding it delays the others by
at most the TTL, after which the next one takes the lock over.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

logger = logging.getLogger("training.gate_lock")

LOCK_SUFFIX = ".gate-lock"
TAG_OWNER = "mlstack.lock.owner"
TAG_EXPIRES = "mlstack.lock.expires_at"


class GateLockTimeout(RuntimeError):
    """Another trainer held the gate lock for longer than this one was willing to wait."""


def lock_name(model_name: str) -> str:
    return f"{model_name}{LOCK_SUFFIX}"


def new_owner() -> str:
    """Who holds the lock, readable in the MLflow UI: host (the pod name in Kubernetes) and a nonce."""
    return f"{socket.gethostname()}/{uuid.uuid4().hex[:8]}"


class GateLock:
    """`with GateLock(client, "iris").held(): ...` runs the block while no other trainer gates `iris`."""

    def __init__(
        self,
        client: MlflowClient,
        model_name: str,
        *,
        ttl_s: float,
        timeout_s: float,
        poll_s: float = 0.5,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.name = lock_name(model_name)
        self.owner = owner or new_owner()
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._poll_s = poll_s
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        deadline = self._clock() + self._timeout_s
        announced = False
        while True:
            if self._try_create():
                logger.info("gate lock acquired", extra={"lock": self.name, "owner": self.owner})
                return
            holder, expires_at = self._holder()
            if holder is not None and expires_at is not None and expires_at < self._clock():
                logger.warning(
                    "taking over an expired gate lock", extra={"lock": self.name, "holder": holder}
                )
                self._delete_if_held_by(holder)
                continue
            if self._clock() >= deadline:
                raise GateLockTimeout(
                    f"the gate lock {self.name} is still held by {holder or 'another trainer'} "
                    f"after waiting {self._timeout_s:g}s; delete that registered model if its trainer is gone"
                )
            if not announced:
                logger.info("waiting for the gate lock", extra={"lock": self.name, "holder": holder})
                announced = True
            self._sleep(self._poll_s)

    def release(self) -> None:
        """Delete the lock if it is still ours (after an expiry another trainer may hold it now)."""
        try:
            self._delete_if_held_by(self.owner)
        except MlflowException:
            logger.exception("could not release the gate lock %s; it expires on its own", self.name)

    def _try_create(self) -> bool:
        try:
            self._client.create_registered_model(
                self.name,
                tags={TAG_OWNER: self.owner, TAG_EXPIRES: f"{self._clock() + self._ttl_s:.3f}"},
                description="Held by an mlstack trainer while it compares against the champion and moves "
                "the alias; deleted when it is done.",
            )
            return True
        except MlflowException as exc:
            # MLflow answers a create that lost the race on the unique name by reading the winner;
            # if the winner released in between, that read says RESOURCE_DOES_NOT_EXIST. Both: retry.
            if exc.error_code in ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST"):
                return False
            raise

    def _holder(self) -> tuple[str | None, float | None]:
        try:
            model = self._client.get_registered_model(self.name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None, None  # released between our attempt and this look
            raise
        tags = model.tags or {}
        try:
            expires_at = float(tags[TAG_EXPIRES])
        except (KeyError, ValueError):
            expires_at = None
        return tags.get(TAG_OWNER), expires_at

    def _delete_if_held_by(self, owner: str) -> None:
        holder, _ = self._holder()
        if holder != owner:
            return
        try:
            self._client.delete_registered_model(self.name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
