"""Every kind of bad input gets a 4xx that names the field (and the record), never a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

pytestmark = pytest.mark.anyio

GOOD = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


def body(payload: Any) -> bytes:
    return orjson.dumps(payload)


CASES = [
    # (case id, raw body, content type, status, code, field, index)
    (
        "missing feature",
        body({"inputs": without("petal width (cm)")}),
        None,
        422,
        "invalid_input",
        "petal width (cm)",
        0,
    ),
    ("unknown feature", body({"inputs": {**GOOD, "colour": 1}}), None, 422, "invalid_input", "colour", 0),
    (
        "string for number",
        body({"inputs": {**GOOD, "sepal width (cm)": "3.5"}}),
        None,
        422,
        "invalid_input",
        "sepal width (cm)",
        0,
    ),
    (
        "bool for number",
        body({"inputs": {**GOOD, "sepal width (cm)": True}}),
        None,
        422,
        "invalid_input",
        "sepal width (cm)",
        0,
    ),
    (
        "null for required",
        body({"inputs": {**GOOD, "sepal width (cm)": None}}),
        None,
        422,
        "invalid_input",
        "sepal width (cm)",
        0,
    ),
    (
        "list for number",
        body({"inputs": {**GOOD, "sepal width (cm)": [1]}}),
        None,
        422,
        "invalid_input",
        "sepal width (cm)",
        0,
    ),
    ("NaN literal", b'{"inputs": {"sepal length (cm)": NaN}}', None, 400, "malformed_request", "body", None),
    ("infinity", b'{"inputs": {"sepal length (cm)": 1e999}}', None, 400, "malformed_request", "body", None),
    (
        "bad record in batch",
        body({"instances": [GOOD, GOOD, without("sepal length (cm)")]}),
        None,
        422,
        "invalid_input",
        "sepal length (cm)",
        2,
    ),
    ("record not an object", body({"instances": [GOOD, [1, 2, 3, 4]]}), None, 422, "invalid_input", None, 1),
    ("empty batch", body({"instances": []}), None, 422, "invalid_input", "instances", None),
    ("instances not a list", body({"instances": GOOD}), None, 422, "invalid_input", "instances", None),
    ("inputs not an object", body({"inputs": [GOOD]}), None, 422, "invalid_input", "inputs", None),
    (
        "both envelopes",
        body({"inputs": GOOD, "instances": [GOOD]}),
        None,
        422,
        "invalid_input",
        "inputs",
        None,
    ),
    ("no envelope", body(GOOD), None, 422, "invalid_input", "petal length (cm)", None),
    ("not an object", body([GOOD]), None, 422, "invalid_input", "body", None),
    ("malformed JSON", b'{"inputs": {', None, 400, "malformed_request", "body", None),
    ("empty body", b"", None, 400, "malformed_request", "body", None),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, None, 400, "malformed_request", "body", None),
    (
        "wrong content type",
        body({"inputs": GOOD}),
        "text/plain",
        415,
        "unsupported_media_type",
        "Content-Type",
        None,
    ),
    ("no content type", body({"inputs": GOOD}), "", 415, "unsupported_media_type", "Content-Type", None),
    (
        "batch over limit",
        body({"instances": [GOOD] * 1001}),
        None,
        413,
        "payload_too_large",
        "instances",
        None,
    ),
    (
        "body over limit",
        b'{"inputs": {"x": "' + b"a" * 5_000_000 + b'"}}',
        None,
        413,
        "payload_too_large",
        "body",
        None,
    ),
]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code", "field", "index"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_bad_input_is_a_4xx_naming_the_field(
    iris_client: httpx.AsyncClient,
    raw: bytes,
    content_type: str | None,
    status: int,
    code: str,
    field: str | None,
    index: int | None,
) -> None:
    headers = {"content-type": "application/json" if content_type is None else content_type}
    response = await iris_client.post("/v1/predict", content=raw, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert error.get("index") == index
    assert error["message"]
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_integer_valued_float_is_accepted_for_double_and_good_input_still_works(
    iris_client: httpx.AsyncClient,
) -> None:
    response = await iris_client.post("/v1/predict", json={"inputs": {**GOOD, "sepal length (cm)": 5}})
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == "1"


async def test_unknown_route_is_404_json(iris_client: httpx.AsyncClient) -> None:
    response = await iris_client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
