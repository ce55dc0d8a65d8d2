"""Predictions equal the pipeline's own predict/predict_proba on the same rows, on both input paths."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from tests.unit.api.conftest import AppFactory

pytestmark = pytest.mark.anyio


async def test_single_record_and_batch_match_the_pipeline(
    iris_client: httpx.AsyncClient, make_app: AppFactory
) -> None:
    frame = load_iris(as_frame=True).data
    records = frame.to_dict(orient="records")
    batch = await iris_client.post("/v1/predict", json={"instances": records})
    assert batch.status_code == 200, batch.text
    payload = batch.json()
    assert payload["model_version"] == "1"
    assert batch.headers["x-model-version"] == "1"
    assert payload["classes"] == [0, 1, 2]

    model = (await iris_client.get("/v1/model")).json()
    assert [f["name"] for f in model["input_schema"]] == list(frame.columns)

    single = await iris_client.post("/v1/predict", json={"inputs": records[77]})
    assert single.json()["predictions"] == [payload["predictions"][77]]
    # The same row inside a 150-row batch goes through BLAS in other blocks than alone, so the
    # probabilities may differ in the last bit (scikit-learn's own predict_proba does the same).
    np.testing.assert_allclose(
        single.json()["probabilities"], [payload["probabilities"][77]], rtol=1e-12, atol=0
    )


async def test_fast_path_equals_the_full_pipeline(make_app: AppFactory, iris_model: str) -> None:
    app = make_app(iris_model)
    await app.state.manager.refresh_once()
    model = app.state.manager.current
    assert model.uses_fast_path
    frame = load_iris(as_frame=True).data
    records = frame.to_dict(orient="records")
    fast = model.predict(records)
    assert fast.predictions == model.estimator.predict(frame).tolist()
    np.testing.assert_array_equal(np.asarray(fast.probabilities), model.estimator.predict_proba(frame))
    assert fast == model.predict_reference(records)


async def test_mixed_types_use_the_dataframe_path_and_match(make_app: AppFactory, mixed_model: str) -> None:
    app = make_app(mixed_model)
    await app.state.manager.refresh_once()
    model = app.state.manager.current
    assert not model.uses_fast_path
    assert {f["name"]: f["type"] for f in model.schema.describe()} == {
        "size": "double",
        "count": "long",
        "colour": "string",
        "member": "boolean",
    }
    records = [
        {"size": 9.5, "count": 3, "colour": "red", "member": True},
        {"size": 12.0, "count": 0, "colour": "purple", "member": False},  # unseen category is ignored
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        response = await client.post("/v1/predict", json={"instances": records})
        assert response.status_code == 200, response.text
        frame = pd.DataFrame(records).astype({"count": "int64"})
        assert response.json()["predictions"] == model.estimator.predict(frame).tolist()
        assert response.json()["classes"] == ["no", "yes"]

        wrong = await client.post("/v1/predict", json={"inputs": {**records[0], "count": 2.5}})
        assert wrong.status_code == 422
        assert wrong.json()["error"]["field"] == "count"
        text = await client.post("/v1/predict", json={"inputs": {**records[0], "colour": 7}})
        assert text.json()["error"]["message"] == "feature 'colour' in record 0 must be a string, got int"
        flag = await client.post("/v1/predict", json={"inputs": {**records[0], "member": "yes"}})
        assert flag.json()["error"]["field"] == "member"


async def test_large_batches_go_to_a_thread_and_still_match(iris_client: httpx.AsyncClient) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.uniform(0, 8, size=(1000, 4)), columns=load_iris(as_frame=True).data.columns)
    response = await iris_client.post("/v1/predict", json={"instances": frame.to_dict(orient="records")})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1000
