"""Request validation derived from the model signature, turning JSON records into model input.

Built once per loaded model. Each record is checked against the signature's columns: no missing
or unknown feature, the right JSON type, finite numbers, integers in range. Valid records become a
float64 matrix (all-numeric models) or typed columns for a DataFrame, in the signature's order.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from api.errors import InvalidInput, echo

# MLflow column type -> the kind of JSON value it accepts.
_KINDS = {
    "double": "number",
    "float": "number",
    "long": "integer",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
}
_INT_RANGE = {"long": (-(2**63), 2**63 - 1), "integer": (-(2**31), 2**31 - 1)}
_PANDAS_DTYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
}
_PLAIN_NUMBERS = frozenset({float, int})
_JSON_TYPES = {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean"}


class UnsupportedSignature(ValueError):
    """The model's signature has no column inputs, or a column type the API cannot validate."""


@dataclass(frozen=True)
class Feature:
    """One input column of the model signature."""

    name: str
    mlflow_type: str
    required: bool

    @property
    def kind(self) -> str:
        return _KINDS[self.mlflow_type]


class InputSchema:
    """Validates records against the model's input columns and builds the model input."""

    def __init__(self, features: Sequence[Feature]) -> None:
        if not features:
            raise UnsupportedSignature("the model signature has no input columns")
        self.features = tuple(features)
        self.names = tuple(feature.name for feature in features)
        self._by_name = {feature.name: feature for feature in features}
        self.all_numeric = all(feature.kind in ("number", "integer") for feature in features)
        self._all_required_doubles = all(f.kind == "number" and f.required for f in features)
        self._getter = operator.itemgetter(*self.names)

    @classmethod
    def from_signature_inputs(cls, inputs_json: str) -> InputSchema:
        """Parse the `signature.inputs` string of an MLmodel file."""
        try:
            columns = orjson.loads(inputs_json)
        except orjson.JSONDecodeError as exc:
            raise UnsupportedSignature(f"unreadable signature inputs: {exc}") from exc
        features = []
        for column in columns:
            mlflow_type = column.get("type")
            if "name" not in column or mlflow_type not in _KINDS:
                raise UnsupportedSignature(
                    f"unsupported signature input {column!r}; only named scalar columns"
                )
            features.append(Feature(str(column["name"]), mlflow_type, bool(column.get("required", True))))
        return cls(features)

    def describe(self) -> list[dict[str, Any]]:
        """Feature names and types, for GET /v1/model."""
        return [{"name": f.name, "type": f.mlflow_type, "required": f.required} for f in self.features]

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema of one record, for clients and property-based tests."""
        properties = {}
        for feature in self.features:
            kind = {"type": _JSON_TYPES[feature.kind]}
            properties[feature.name] = kind if feature.required else {"anyOf": [kind, {"type": "null"}]}
        required = [feature.name for feature in self.features if feature.required]
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    def matrix(self, records: Sequence[Any]) -> np.ndarray:
        """Validated records as a float64 matrix in signature order (all-numeric models only)."""
        if self._all_required_doubles:
            fast = self._plain_matrix(records)
            if fast is not None:
                return fast
        out = np.empty((len(records), len(self.features)), dtype=np.float64)
        for index, record in enumerate(records):
            self._check_keys(record, index)
            row = out[index]
            for position, feature in enumerate(self.features):
                value = record.get(feature.name)
                row[position] = (
                    self._null(feature, index) if value is None else self._number(feature, value, index)
                )
        return out

    def _plain_matrix(self, records: Sequence[Any]) -> np.ndarray | None:
        """The common case in bulk: every record a dict with exactly the signature's keys, every value
        an int or float and finite. Anything else returns None, and the record-by-record path above
        accepts it or names the offending field and record."""
        getter, width = self._getter, len(self.names)
        try:
            # A dict of `width` keys from which every signature name can be read has exactly those keys.
            rows = [getter(record) for record in records if type(record) is dict and len(record) == width]
        except (KeyError, TypeError):
            return None
        if len(rows) != len(records):
            return None
        values = rows if width == 1 else list(itertools.chain.from_iterable(rows))
        if not set(map(type, values)) <= _PLAIN_NUMBERS:
            return None  # bools, strings, nulls: let the careful path judge them
        try:
            out = np.array(values, dtype=np.float64).reshape(len(rows), width)
        except OverflowError:
            return None
        return out if np.isfinite(out).all() else None

    def frame(self, records: Sequence[Any]) -> pd.DataFrame:
        """Validated records as a DataFrame with the signature's dtypes."""
        columns: dict[str, list[Any]] = {name: [] for name in self.names}
        for index, record in enumerate(records):
            self._check_keys(record, index)
            for feature in self.features:
                columns[feature.name].append(self._value(feature, record.get(feature.name), index))
        return pd.DataFrame(
            {feature.name: self._column(feature, columns[feature.name]) for feature in self.features}
        )

    def _check_keys(self, record: Any, index: int) -> None:
        if not isinstance(record, dict):
            raise InvalidInput(f"record {index} must be an object keyed by feature name", index=index)
        if len(record) == len(self.features) and all(name in record for name in self.names):
            return
        for name in record:
            if name not in self._by_name:
                raise InvalidInput(
                    f"unknown feature {echo(name)!r} in record {index}", field=echo(name), index=index
                )
        for feature in self.features:
            if feature.name not in record and feature.required:
                raise InvalidInput(
                    f"missing feature {feature.name!r} in record {index}", field=feature.name, index=index
                )

    def _number(self, feature: Feature, value: Any, index: int) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong_type(feature, value, index)
        if feature.kind == "integer":
            return float(self._integer(feature, value, index))
        as_float = float(value)
        if not math.isfinite(as_float):
            raise InvalidInput(
                f"feature {feature.name!r} in record {index} must be a finite number",
                field=feature.name,
                index=index,
            )
        return as_float

    def _integer(self, feature: Feature, value: Any, index: int) -> int:
        if isinstance(value, float):
            if not value.is_integer():
                raise self._wrong_type(feature, value, index)
            value = int(value)
        low, high = _INT_RANGE[feature.mlflow_type]
        if not low <= value <= high:
            raise InvalidInput(
                f"feature {feature.name!r} in record {index} is out of range for {feature.mlflow_type}",
                field=feature.name,
                index=index,
            )
        return int(value)

    @staticmethod
    def _null(feature: Feature, index: int) -> float:
        """A null is allowed only for optional features, and becomes NaN for the imputer."""
        if feature.required:
            raise InvalidInput(
                f"feature {feature.name!r} in record {index} must not be null",
                field=feature.name,
                index=index,
            )
        return math.nan

    def _value(self, feature: Feature, value: Any, index: int) -> Any:
        if value is None:
            self._null(feature, index)
            return None
        kind = feature.kind
        if kind == "number":
            return self._number(feature, value, index)
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._wrong_type(feature, value, index)
            return self._integer(feature, value, index)
        if kind == "string" and isinstance(value, str):
            return value
        if kind == "boolean" and isinstance(value, bool):
            return value
        raise self._wrong_type(feature, value, index)

    @staticmethod
    def _column(feature: Feature, values: list[Any]) -> Any:
        if feature.kind == "string" or any(value is None for value in values):
            # Optional columns keep None/NaN; the pipeline's imputer fills them.
            return (
                pd.array(values, dtype="object")
                if feature.kind == "string"
                else pd.to_numeric(pd.Series(values))
            )
        return np.asarray(values, dtype=_PANDAS_DTYPES[feature.mlflow_type])

    @staticmethod
    def _wrong_type(feature: Feature, value: Any, index: int) -> InvalidInput:
        expected = {
            "number": "a number",
            "integer": "an integer",
            "string": "a string",
            "boolean": "true or false",
        }
        return InvalidInput(
            f"feature {feature.name!r} in record {index} must be {expected[feature.kind]}, got {type(value).__name__}",
            field=feature.name,
            index=index,
        )
