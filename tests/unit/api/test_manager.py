"""Readiness comes from what is loaded; the refresher follows the alias and never swaps in a bad version."""

from __future__ import annotations

import httpx
import pytest

from tests.support.processes import free_port
from tests.unit.api.conftest import AppFactory, Store

pytestmark = pytest.mark.anyio


async def _readyz(app) -> httpx.Response:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        return await client.get("/readyz")


async def test_not_ready_until_asked_then_ready(make_app: AppFactory, iris_model: str) -> None:
    app = make_app(iris_model)
    before = await _readyz(app)
    assert before.status_code == 503
    assert before.json()["reason"].startswith("starting")
    assert await app.state.manager.refresh_once()
    after = await _readyz(app)
    assert after.status_code == 200
    assert after.json() == {"status": "ready", "model": "iris", "version": "1"}


async def test_registry_unreachable_is_the_reason(make_app: AppFactory) -> None:
    # A real connection refusal: nothing listens on this port.
    app = make_app("iris", tracking_uri=f"http://127.0.0.1:{free_port()}")
    assert not await app.state.manager.refresh_once()
    response = await _readyz(app)
    assert response.status_code == 503
    assert response.json()["reason"].startswith("registry unreachable")
    assert "mlstack_registry_reachable 0.0" in app.state.metrics.render().decode()


async def test_missing_alias_and_missing_model_are_the_reason(make_app: AppFactory, store: Store) -> None:
    store.client.create_registered_model("no-alias-yet")
    for name in ("no-alias-yet", "never-registered"):
        app = make_app(name)
        assert await app.state.manager.refresh_once()
        response = await _readyz(app)
        assert response.status_code == 503
        assert response.json()["reason"] == f"no version behind alias production of model {name}"


async def test_alias_move_swaps_and_corrupt_version_is_never_swapped_in(
    make_app: AppFactory, store: Store
) -> None:
    name = "swapper"
    store.train(name, params={"C": 0.02})
    app = make_app(name)
    manager = app.state.manager
    assert await manager.refresh_once()
    assert manager.current.version == "1"

    better = store.train(name)  # default C beats C=0.02, so the alias moves to 2
    assert better.alias_moved
    assert await manager.refresh_once()
    assert manager.current.version == "2"

    # Version 3 is registered and promoted, then its model file is damaged on disk: a real corrupt artifact.
    third = store.train(name, model="random_forest")
    store.client.set_registered_model_alias(name, "production", third.version)
    store.model_file(name, third.version).write_bytes(b"not a skops file")
    assert not await manager.refresh_once()
    assert manager.current.version == "2"  # the old version keeps serving
    body = (await _readyz(app)).json()
    assert body["status"] == "ready"
    assert body["last_load_failure"].startswith("load failed: version 3")
    text = app.state.metrics.render().decode()
    assert 'mlstack_model_reloads_total{result="failure"} 1.0' in text
    assert 'mlstack_model_reloads_total{result="success"} 2.0' in text
    assert 'mlstack_model_info{name="swapper",run_id="' in text

    # Backoff: the failed version is not retried on the very next refresh.
    assert not await manager.refresh_once()
    assert 'mlstack_model_reloads_total{result="failure"} 1.0' in app.state.metrics.render().decode()


async def test_model_endpoint_describes_the_version(iris_client: httpx.AsyncClient, store: Store) -> None:
    body = (await iris_client.get("/v1/model")).json()
    version = store.client.get_model_version("iris", "1")
    assert body["name"] == "iris"
    assert body["version"] == "1"
    assert body["alias"] == "production"
    assert body["run_id"] == version.run_id
    assert body["dataset_fingerprint"] == version.tags["mlstack.dataset_fingerprint"]
    assert set(body["metrics"]) == {"accuracy", "f1", "roc_auc"}
    assert body["record_json_schema"]["required"] == [f["name"] for f in body["input_schema"]]
    assert body["loaded_at"]
