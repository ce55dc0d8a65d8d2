"""A loaded model version: the estimator, its input schema, its metadata, and how to predict.

Loading happens off the request path (the refresher runs it in a thread): download the version
through the tracking server, load it with mlstack's skops allow-list, derive the request schema
from the signature, and warm it with the logged input example. Anything that fails there raises,
and the caller keeps serving the version it had.
"""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from api.kernels import model_kernel
from api.schema import InputSchema
from mlstack.models import ModelFormatError, download_model, load_sklearn_model, read_mlmodel
from mlstack.registry import TAG_FINGERPRINT, ModelVersionRef

logger = logging.getLogger("api.model")


class ModelLoadError(RuntimeError):
    """A version could not be downloaded, loaded or warmed; it must not be swapped in."""


@dataclass(frozen=True)
class ModelMetadata:
    """What GET /v1/model reports about the version being served."""

    name: str
    version: str
    alias: str
    run_id: str | None
    source: str
    metrics: dict[str, float] = field(default_factory=dict)
    dataset_fingerprint: str | None = None
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Prediction:
    predictions: list[Any]
    probabilities: list[list[float]] | None
    classes: list[Any] | None

    def rows(self, start: int, stop: int) -> Prediction:
        """The predictions of rows [start, stop): one request's share of a coalesced batch."""
        probabilities = None if self.probabilities is None else self.probabilities[start:stop]
        return Prediction(self.predictions[start:stop], probabilities, self.classes)


# Validated features: a float matrix on the numeric fast path, a typed DataFrame otherwise.
Features = np.ndarray | pd.DataFrame


class LoadedModel:
    """One fitted pipeline ready to serve; immutable once built, so requests can share it freely."""

    def __init__(
        self,
        estimator: Any,
        schema: InputSchema,
        metadata: ModelMetadata,
        input_example: list[dict[str, Any]] | None = None,
    ) -> None:
        self.estimator = estimator
        self.schema = schema
        self.metadata = metadata
        self.input_example = input_example
        self.classes: list[Any] | None = (
            np.asarray(estimator.classes_).tolist() if hasattr(estimator, "predict_proba") else None
        )
        self._fast = _numeric_fast_path(estimator, schema)
        self._class_array = np.asarray(self.classes, dtype=object) if self.classes is not None else None
        self._labels_from_proba = self.classes is not None

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def uses_fast_path(self) -> bool:
        return self._fast is not None

    def validate(self, records: Sequence[Any]) -> Features:
        """Records as model input; raises InvalidInput naming the field and record index."""
        if self._fast is not None:
            return self.schema.matrix(records)
        return self.schema.frame(records)

    @staticmethod
    def combine(parts: Sequence[Features]) -> Features:
        """Several requests' validated features as one model input (rows in order)."""
        if len(parts) == 1:
            return parts[0]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return pd.concat(parts, ignore_index=True)

    def predict_features(self, features: Features) -> Prediction:
        """Predict validated features with one pass through the model where possible."""
        if self._fast is not None:
            transform, predictor = self._fast
            features = transform(features)
        else:
            predictor = self.estimator
        if self.classes is None:
            return Prediction(np.asarray(predictor.predict(features)).tolist(), None, None)
        probabilities = predictor.predict_proba(features)
        if self._labels_from_proba:
            # The class of highest probability: what predict computes for these classifiers, without
            # running the model (and scikit-learn's input checks) a second time. warm() verifies it.
            predictions = self._class_array.take(probabilities.argmax(axis=1)).tolist()
        else:
            predictions = np.asarray(predictor.predict(features)).tolist()
        return Prediction(predictions, probabilities.tolist(), self.classes)

    def predict(self, records: Sequence[Any]) -> Prediction:
        """Validate `records` (raises InvalidInput naming field and index) and predict them."""
        return self.predict_features(self.validate(records))

    def predict_reference(self, records: Sequence[Any]) -> Prediction:
        """The slow, obviously-correct path: a typed DataFrame through the whole pipeline."""
        frame = self.schema.frame(records)
        probabilities = self.estimator.predict_proba(frame).tolist() if self.classes is not None else None
        return Prediction(np.asarray(self.estimator.predict(frame)).tolist(), probabilities, self.classes)

    def warm(self) -> None:
        """Check each prediction shortcut against the plain pipeline on the logged input example and
        switch off any that disagrees (an error here fails the load)."""
        if not self.input_example:
            return
        reference = self.predict_reference(self.input_example)
        if self.classes is not None:
            by_proba = self._class_array.take(np.asarray(reference.probabilities).argmax(axis=1)).tolist()
            if by_proba != reference.predictions:
                logger.warning("predict differs from the most probable class; calling predict too")
                self._labels_from_proba = False
        if self._fast is not None:
            fast = self.predict(self.input_example)
            if self.classes is None:  # regression: the same arithmetic, maybe summed in another order
                agrees = _close([fast.predictions], [reference.predictions])
            else:
                agrees = fast.predictions == reference.predictions and _close(
                    fast.probabilities, reference.probabilities
                )
            if not agrees:
                logger.warning("numeric fast path disagrees with the pipeline; using the pipeline")
                self._fast = None


def _close(left: list[list[float]] | None, right: list[list[float]] | None) -> bool:
    if left is None or right is None:
        return left is right
    return bool(np.allclose(np.asarray(left), np.asarray(right), rtol=1e-12, atol=1e-12))


def _numeric_fast_path(estimator: Any, schema: InputSchema) -> tuple[Callable[[np.ndarray], Any], Any] | None:
    """For Pipeline(ColumnTransformer(one numeric branch over every column in order), model): the branch
    and the model, so a float matrix can skip DataFrame construction and column selection; for a
    supported branch and model, a numpy kernel instead (api/kernels.py).

    The branch is a copy whose `feature_names_in_` are removed: it is given a plain matrix in the
    signature's order, which is what scikit-learn's feature-name warning guards against getting wrong.
    """
    if not schema.all_numeric or not isinstance(estimator, Pipeline) or len(estimator.steps) != 2:
        return None
    preprocess, final = estimator.steps[0][1], estimator.steps[1][1]
    if not isinstance(preprocess, ColumnTransformer):
        return None
    active = [
        (transformer, columns)
        for name, transformer, columns in preprocess.transformers_
        if not (name == "remainder" and (transformer == "drop" or len(columns) == 0))
    ]
    if len(active) != 1:
        return None
    transformer, columns = active[0]
    if list(columns) != list(schema.names) or transformer in ("drop", "passthrough"):
        return None
    kernel = model_kernel(transformer, final)
    if kernel is not None:
        return _identity, kernel
    branch = copy.deepcopy(transformer)
    for step in branch.steps if isinstance(branch, Pipeline) else [("only", branch)]:
        for attribute in ("feature_names_in_",):
            if hasattr(step[1], attribute):
                delattr(step[1], attribute)
    return branch.transform, final


def _identity(features: np.ndarray) -> np.ndarray:
    return features


def _input_example(
    model_dir: Path, mlmodel: dict[str, Any], schema: InputSchema
) -> list[dict[str, Any]] | None:
    info = mlmodel.get("saved_input_example_info") or {}
    path = model_dir / str(info.get("artifact_path", "input_example.json"))
    if not path.is_file():
        return None
    payload = orjson.loads(path.read_bytes())
    if isinstance(payload, dict) and "columns" in payload and "data" in payload:
        return [dict(zip(payload["columns"], row, strict=True)) for row in payload["data"]]
    if isinstance(payload, list) and all(isinstance(row, dict) for row in payload):
        return payload
    raise ModelLoadError(f"{path}: input example in an unsupported layout")


def load_version(ref: ModelVersionRef, alias: str, metrics: dict[str, float], cache_dir: Path) -> LoadedModel:
    """Download, load and warm one registered version; ModelLoadError says why it cannot be served."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"v{ref.version}-", dir=cache_dir))
    try:
        model_dir = download_model(ref.uri, scratch)
        mlmodel = read_mlmodel(model_dir)
        inputs = (mlmodel.get("signature") or {}).get("inputs")
        if not inputs:
            raise ModelLoadError(
                f"version {ref.version} has no input signature; the API validates against it"
            )
        schema = InputSchema.from_signature_inputs(inputs)
        estimator = load_sklearn_model(model_dir)
        metadata = ModelMetadata(
            name=ref.name,
            version=ref.version,
            alias=alias,
            run_id=ref.run_id,
            source=ref.source,
            metrics=metrics,
            dataset_fingerprint=ref.tags.get(TAG_FINGERPRINT),
        )
        model = LoadedModel(estimator, schema, metadata, _input_example(model_dir, mlmodel, schema))
        model.warm()
        return model
    except ModelLoadError:
        raise
    except (ModelFormatError, OSError, ValueError) as exc:
        raise ModelLoadError(f"version {ref.version}: {exc}") from exc
    except Exception as exc:  # download and estimator errors come in many types
        raise ModelLoadError(f"version {ref.version}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
