"""Property-based: whatever JSON a client sends to /v1/predict, the answer is never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.anyio

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
# Records keyed mostly by real feature names, sometimes by others, with any JSON value.
records = st.dictionaries(st.one_of(st.sampled_from(FEATURES), st.text(max_size=6)), scalars, max_size=6)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
payloads = st.one_of(
    st.fixed_dictionaries({"inputs": st.one_of(records, any_json)}),
    st.fixed_dictionaries({"instances": st.one_of(st.lists(records, max_size=4), any_json)}),
    any_json,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads)
async def test_no_payload_gets_a_5xx(iris_client: httpx.AsyncClient, payload: Any) -> None:
    response = await iris_client.post(
        "/v1/predict", content=json.dumps(payload), headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (payload, response.text)
    if response.status_code != 200:
        assert response.json()  # a JSON body explaining the refusal
