"""With MLSTACK_API_KEY set, /v1/* needs the key; probes and metrics stay open; weak keys are refused."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from api.settings import ApiSettings
from tests.unit.api.conftest import AppFactory

pytestmark = pytest.mark.anyio

KEY = "k" * 12 + "-secret-0123"
ROW = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}


async def test_key_guards_v1_only(make_app: AppFactory, iris_model: str) -> None:
    app = make_app(iris_model, api_key=KEY)
    await app.state.manager.refresh_once()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}):
            denied = await client.post("/v1/predict", json={"inputs": ROW}, headers=headers)
            assert denied.status_code == 401
            assert denied.json()["error"]["field"] == "X-API-Key"
            assert (await client.get("/v1/model", headers=headers)).status_code == 401
        allowed = await client.post("/v1/predict", json={"inputs": ROW}, headers={"X-API-Key": KEY})
        assert allowed.status_code == 200
        for open_route in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(open_route)).status_code == 200


def test_short_key_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        ApiSettings(model_name="m", api_key="short")
    assert ApiSettings(model_name="m", api_key="").api_key is None
