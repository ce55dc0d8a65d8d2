"""An OpenAPI document that describes the model being served, not just "an object".

The request schema of /v1/predict depends on the loaded version's signature, so the document is
rebuilt (once per version) from the generic one: clients and schema-driven fuzzers then see the
real feature names, types and batch limit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.manager import ModelManager
from api.routes import PREDICT_PATH


def served_model_openapi(app: FastAPI, manager: ModelManager, max_batch: int) -> Callable[[], dict[str, Any]]:
    """A replacement for `app.openapi` that folds the served version's record schema into the document."""
    generic: dict[str, Any] = {}
    by_version: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        if not generic:
            generic.update(
                get_openapi(
                    title=app.title, version=app.version, description=app.description, routes=app.routes
                )
            )
        model = manager.current
        if model is None:
            return generic
        if model.version not in by_version:
            by_version.clear()  # only the served version's document is worth keeping
            by_version[model.version] = _with_record_schema(generic, model.schema.json_schema(), max_batch)
        return by_version[model.version]

    return openapi


def _with_record_schema(generic: dict[str, Any], record: dict[str, Any], max_batch: int) -> dict[str, Any]:
    document = copy.deepcopy(generic)
    body = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"inputs": record},
                "required": ["inputs"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "instances": {"type": "array", "items": record, "minItems": 1, "maxItems": max_batch}
                },
                "required": ["instances"],
                "additionalProperties": False,
            },
        ]
    }
    operation = document["paths"][PREDICT_PATH]["post"]
    operation["requestBody"]["content"]["application/json"]["schema"] = body
    return document
