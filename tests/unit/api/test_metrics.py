"""Requests and predictions are counted under the route that served them, one series per status."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.iris import IRIS_ROW

pytestmark = pytest.mark.anyio


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in:\n{text}"
    return float(match.group(1))


async def test_requests_and_predictions_are_counted_by_route_status_and_version(
    iris_client: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        assert (await iris_client.post("/v1/predict", json={"inputs": IRIS_ROW})).status_code == 200
    assert (await iris_client.post("/v1/predict", json={"instances": [IRIS_ROW] * 5})).status_code == 200
    assert (await iris_client.post("/v1/predict", json={"inputs": {"petal": 1}})).status_code == 422
    assert (await iris_client.get("/healthz")).status_code == 200
    assert (await iris_client.get("/no-such-page")).status_code == 404

    text = (await iris_client.get("/metrics")).text
    predict = 'route="/v1/predict"'
    assert _value(text, f'mlstack_http_requests_total{{method="POST",{predict},status="200"}}') == 4
    assert _value(text, f'mlstack_http_requests_total{{method="POST",{predict},status="422"}}') == 1
    assert _value(text, 'mlstack_http_requests_total{method="GET",route="/healthz",status="200"}') == 1
    assert _value(text, 'mlstack_http_requests_total{method="GET",route="other",status="404"}') == 1
    assert (
        _value(text, f'mlstack_http_request_duration_seconds_count{{method="POST",{predict},status="200"}}')
        == 4
    )
    assert 'mlstack_http_request_duration_seconds_count{method="GET",route="/healthz"' not in text
    assert _value(text, 'mlstack_predictions_total{model_version="1"}') == 8
