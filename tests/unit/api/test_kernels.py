"""The numpy kernels give the fitted pipeline's own predictions and probabilities, on clean rows and on
rows with missing values, and pipelines they do not cover keep the scikit-learn path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from api.kernels import ForestKernel, LinearKernel
from api.model import LoadedModel, ModelMetadata
from api.schema import InputSchema

CASES = {
    "logistic-multiclass": (load_iris, [SimpleImputer(), StandardScaler()], LogisticRegression(max_iter=1000), LinearKernel),
    "logistic-binary": (load_breast_cancer, [SimpleImputer(strategy="median"), StandardScaler()], LogisticRegression(max_iter=5000), LinearKernel),
    "linear-regression": (load_diabetes, [SimpleImputer(), StandardScaler()], LinearRegression(), LinearKernel),
    "ridge": (load_diabetes, [StandardScaler(with_mean=False)], Ridge(alpha=0.5), LinearKernel),
    "forest": (load_wine, [SimpleImputer(strategy="median")], RandomForestClassifier(n_estimators=30, random_state=0), ForestKernel),
    "minmax-no-kernel": (load_iris, [MinMaxScaler()], LogisticRegression(max_iter=1000), None),
    "boosting-no-kernel": (load_iris, [SimpleImputer()], GradientBoostingClassifier(n_estimators=10, random_state=0), None),
}  # fmt: skip


def _loaded(loader, steps, estimator, optional: bool) -> tuple[LoadedModel, pd.DataFrame]:
    data = loader(as_frame=True)
    frame = data.data.copy()
    columns = list(frame.columns)
    branch = Pipeline([(f"s{i}", step) for i, step in enumerate(steps)])
    pipeline = Pipeline([("prep", ColumnTransformer([("num", branch, columns)])), ("model", estimator)])
    pipeline.fit(frame, data.target)
    signature = [{"type": "double", "name": c, "required": not optional} for c in columns]
    schema = InputSchema.from_signature_inputs(json.dumps(signature))
    example = frame.head(20).to_dict(orient="records")
    model = LoadedModel(pipeline, schema, ModelMetadata("m", "1", "production", None, "s"), example)
    model.warm()
    return model, frame


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_matches_the_pipeline(case: str) -> None:
    loader, steps, estimator, kernel_type = CASES[case]
    model, frame = _loaded(loader, steps, estimator, optional=False)
    kernel = model._fast[1] if model._fast else None
    assert type(kernel) is kernel_type if kernel_type else not isinstance(kernel, LinearKernel | ForestKernel)
    records = frame.to_dict(orient="records")
    got = model.predict(records)
    if model.classes is None:  # regression: equal up to the order BLAS sums in
        np.testing.assert_allclose(got.predictions, model.estimator.predict(frame), rtol=1e-12, atol=0)
    else:
        assert got.predictions == model.estimator.predict(frame).tolist()
        np.testing.assert_allclose(
            got.probabilities, model.estimator.predict_proba(frame), rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("case", ["logistic-multiclass", "forest", "linear-regression"])
def test_kernel_fills_missing_values_like_the_imputer(case: str) -> None:
    loader, steps, estimator, _ = CASES[case]
    model, frame = _loaded(loader, steps, estimator, optional=True)
    holes = frame.head(30).copy()
    rng = np.random.default_rng(0)
    holes = holes.mask(rng.random(holes.shape) < 0.3)
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()} for row in holes.to_dict(orient="records")
    ]
    got = model.predict(records)
    if model.classes is None:
        np.testing.assert_allclose(got.predictions, model.estimator.predict(holes), rtol=1e-12, atol=0)
    else:
        assert got.predictions == model.estimator.predict(holes).tolist()
