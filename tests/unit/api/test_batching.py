"""Micro-batching: concurrent requests share model calls, each gets exactly its own rows (equal to the
pipeline's own predict on them), a bad record fails only its request, and it can be switched off."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from tests.unit.api.conftest import AppFactory

pytestmark = pytest.mark.anyio


async def _concurrent(app, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        return list(await asyncio.gather(*(client.post("/v1/predict", json=body) for body in bodies)))


@pytest.mark.parametrize("kind", ["iris", "mixed"])
async def test_concurrent_requests_share_model_calls_and_get_their_own_rows(
    make_app: AppFactory, iris_model: str, mixed_model: str, kind: str
) -> None:
    app = make_app(iris_model if kind == "iris" else mixed_model)
    await app.state.manager.refresh_once()
    model = app.state.manager.current
    if kind == "iris":
        records = load_iris(as_frame=True).data.to_dict(orient="records")
    else:
        records = [
            {"size": 1.0 + i, "count": i % 4, "colour": ("red", "green", "blue")[i % 3], "member": i % 2 == 0}
            for i in range(60)
        ]
    # Single records and small batches, interleaved.
    bodies = [{"inputs": r} for r in records[:40]] + [
        {"instances": records[40:43]},
        {"instances": records[43:50]},
    ]
    batcher = app.state.batcher
    calls_before = batcher.batches
    responses = await _concurrent(app, bodies)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    assert batcher.batches - calls_before < len(bodies), "concurrent requests were not coalesced"

    frame = model.schema.frame(records[:50])
    expected = model.estimator.predict(frame).tolist()
    expected_proba = model.estimator.predict_proba(frame)
    got = [p for r in responses for p in r.json()["predictions"]]
    assert got == expected
    got_proba = np.asarray([p for r in responses for p in r.json()["probabilities"]])
    np.testing.assert_allclose(got_proba, expected_proba, rtol=1e-12, atol=0)
    assert [len(r.json()["predictions"]) for r in responses] == [1] * 40 + [3, 7]


async def test_a_bad_record_fails_only_its_own_request(make_app: AppFactory, iris_model: str) -> None:
    app = make_app(iris_model)
    await app.state.manager.refresh_once()
    records = load_iris(as_frame=True).data.to_dict(orient="records")
    bad = {**records[0], "petal width (cm)": "wide"}
    responses = await _concurrent(app, [{"inputs": records[1]}, {"inputs": bad}, {"inputs": records[2]}])
    assert [r.status_code for r in responses] == [200, 422, 200]
    assert responses[1].json()["error"]["field"] == "petal width (cm)"


async def test_switched_off_every_request_calls_the_model(make_app: AppFactory, iris_model: str) -> None:
    app = make_app(iris_model, micro_batching=False)
    await app.state.manager.refresh_once()
    assert app.state.batcher is None
    records = load_iris(as_frame=True).data.to_dict(orient="records")[:10]
    responses = await _concurrent(app, [{"inputs": r} for r in records])
    model = app.state.manager.current
    assert [r.json()["predictions"][0] for r in responses] == model.estimator.predict(
        pd.DataFrame(records)
    ).tolist()


async def test_labels_come_from_the_most_probable_class_only_where_warm_verified(
    make_app: AppFactory, iris_model: str
) -> None:
    app = make_app(iris_model)
    await app.state.manager.refresh_once()
    model = app.state.manager.current
    assert model._labels_from_proba, "logistic regression predicts the most probable class"
    frame = load_iris(as_frame=True).data
    assert (
        model.predict(frame.to_dict(orient="records")).predictions == model.estimator.predict(frame).tolist()
    )
