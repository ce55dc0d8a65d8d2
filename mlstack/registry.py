"""Model-registry look-ups shared by the trainer (the promotion gate) and the API (the refresher).

To fetch and load a version's model use `mlstack.models` (download_model + load_sklearn_model): it
loads with our own skops allow-list and needs no MLFLOW_ALLOW_PICKLE_DESERIALIZATION.

Both ask the same questions: which version stands behind an alias, what did its run measure, is the
registry reachable at all. Keeping them here means both sides agree on what "no model yet" and
"registry down" look like.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import mlflow
import requests
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from mlstack.retry import DependencyUnavailable, retry_call

T = TypeVar("T")
logger = logging.getLogger("mlstack.registry")

# Tags the trainer writes on every version; the API reports them and the gate reads them back.
TAG_FINGERPRINT = "mlstack.dataset_fingerprint"
TAG_PRIMARY_METRIC = "mlstack.primary_metric"
TAG_DECISION = "mlstack.gate.decision"
TAG_DECISION_REASON = "mlstack.gate.reason"

_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


class RegistryUnavailable(RuntimeError):
    """The tracking server / registry could not be reached or answered with a server error."""


@dataclass(frozen=True)
class ModelVersionRef:
    """One registered model version, with what the serving side needs to describe it."""

    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @classmethod
    def from_entity(cls, mv: ModelVersion) -> ModelVersionRef:
        return cls(
            name=mv.name,
            version=str(mv.version),
            run_id=mv.run_id or None,
            source=mv.source,
            tags=dict(mv.tags or {}),
            aliases=tuple(mv.aliases or ()),
        )


class Registry:
    """A thin, typed front over `MlflowClient` for the handful of registry calls mlstack makes."""

    def __init__(self, tracking_uri: str | None = None, *, health_timeout_s: float = 3.0) -> None:
        self.tracking_uri: str = tracking_uri or mlflow.get_tracking_uri()
        self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        self._health_timeout_s = health_timeout_s

    @property
    def client(self) -> MlflowClient:
        return self._client

    def ping(self) -> None:
        """Raise `RegistryUnavailable` unless the tracking server answers its health check."""
        if self.tracking_uri.startswith(("http://", "https://")):
            url = self.tracking_uri.rstrip("/") + "/health"
            try:
                response = requests.get(url, timeout=self._health_timeout_s)
            except requests.RequestException as exc:
                raise RegistryUnavailable(f"{url}: {exc.__class__.__name__}: {exc}") from exc
            if response.status_code != 200:
                raise RegistryUnavailable(f"{url} answered HTTP {response.status_code}")
            return
        # Local stores (sqlite://, file:) have no server; a cheap query proves the store opens.
        self._call(lambda: self._client.search_experiments(max_results=1))

    def wait_until_reachable(self, timeout_s: float) -> None:
        """Block until `ping` succeeds, logging each attempt; `DependencyUnavailable` after `timeout_s`."""
        retry_call(
            self.ping,
            what=f"MLflow tracking server at {self.tracking_uri}",
            timeout_s=timeout_s,
            retry_on=(RegistryUnavailable,),
        )

    def version_for_alias(self, name: str, alias: str) -> ModelVersionRef | None:
        """The version behind `name@alias`, or None when the model or the alias does not exist yet."""
        try:
            mv = self._call(lambda: self._client.get_model_version_by_alias(name, alias))
        except MlflowException as exc:  # `_call` lets only the not-found codes through
            if "not found" in str(exc).lower():
                return None
            raise RegistryUnavailable(str(exc)) from exc
        return ModelVersionRef.from_entity(mv)

    def get_version(self, name: str, version: str) -> ModelVersionRef:
        return ModelVersionRef.from_entity(self._call(lambda: self._client.get_model_version(name, version)))

    def run_metrics(self, run_id: str | None) -> dict[str, float]:
        """Latest value of every metric the version's run logged (empty for a version without a run)."""
        if not run_id:
            return {}
        run = self._call(lambda: self._client.get_run(run_id))
        return dict(run.data.metrics)

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one client call, turning transport and server errors into `RegistryUnavailable`."""
        try:
            return fn()
        except MlflowException as exc:
            if exc.error_code in _NOT_FOUND_CODES:
                raise
            raise RegistryUnavailable(str(exc)) from exc
        except requests.RequestException as exc:
            raise RegistryUnavailable(str(exc)) from exc


__all__ = [
    "TAG_DECISION",
    "TAG_DECISION_REASON",
    "TAG_FINGERPRINT",
    "TAG_PRIMARY_METRIC",
    "DependencyUnavailable",
    "ModelVersionRef",
    "Registry",
    "RegistryUnavailable",
]
