"""Real models in a real (SQLite + local folder) MLflow store, trained by the trainer in-process.

No server is needed in-process: the registry and artifact calls go straight to the store, and the
app is driven over ASGI with httpx. Each app gets its own manager; tests call `refresh_once()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from mlflow import MlflowClient

from api.app import create_app
from api.manager import ModelManager
from api.metrics import ApiMetrics
from api.settings import ApiSettings
from mlstack.registry import Registry
from training.run import TrainResult, prepare, train
from training.settings import load_settings


@dataclass
class Store:
    """A tracking/registry store on disk and a way to train versions into it."""

    uri: str
    root: Path

    def train(self, model_name: str, **settings: object) -> TrainResult:
        prepared = prepare(load_settings({"model_name": model_name, **settings}, None))
        return train(prepared, Registry(self.uri))

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(self.uri, self.uri)

    def model_file(self, model_name: str, version: str) -> Path:
        """The serialized estimator of a version, on disk in the local artifact folder."""
        source = self.client.get_model_version(model_name, version).source
        model_id = source.removeprefix("models:/")
        matches = list(self.root.glob(f"artifacts/**/{model_id}/artifacts/model.skops"))
        assert len(matches) == 1, matches
        return matches[0]


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("mlflow-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("mlstack", artifact_location=str(root / "artifacts"))
    return Store(uri, root)


@pytest.fixture(scope="session")
def iris_model(store: Store) -> str:
    """`iris` with version 1 behind @production."""
    result = store.train("iris")
    assert result.alias_moved
    return "iris"


@pytest.fixture(scope="session")
def mixed_model(store: Store, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model with numeric, integer, text and boolean features: the DataFrame path."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    rows = 200
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "count": rng.integers(0, 9, rows),
            "colour": rng.choice(["red", "green", "blue"], rows),
            "member": rng.choice([True, False], rows),
        }
    )
    frame["label"] = np.where(
        frame["size"] + (frame["colour"] == "red") * 2 + frame["member"] > 11, "yes", "no"
    )
    path = tmp_path_factory.mktemp("data") / "mixed.csv"
    frame.to_csv(path, index=False)
    result = store.train(
        "mixed", data=str(path), target="label", model="random_forest", params={"n_estimators": 20}
    )
    assert result.alias_moved
    return "mixed"


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppFactory:
    # What create_app does for a real server: no MLflow client retries, the refresher backs off itself.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")

    def _make(model_name: str, tracking_uri: str | None = None, **overrides: object) -> FastAPI:
        settings = ApiSettings(
            model_name=model_name,
            tracking_uri=tracking_uri or store.uri,
            model_cache_dir=tmp_path / "cache",
            refresh_seconds=0.1,
            max_backoff_seconds=0.2,
            **overrides,
        )
        metrics = ApiMetrics()
        manager = ModelManager(settings, Registry(settings.tracking_uri), metrics)
        return create_app(settings, manager=manager, metrics=metrics, start_refresher=False)

    return _make


@pytest.fixture
async def iris_client(make_app: AppFactory, iris_model: str) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(iris_model)
    assert await app.state.manager.refresh_once()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
