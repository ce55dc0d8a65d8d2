"""Build the scikit-learn Pipeline for an estimator family: the preprocessing it needs plus the model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from training.errors import InputError

ResolvedTask = Literal["classification", "regression"]

# family -> task -> factory(seed). A missing task means the family does not do that task.
FAMILIES: dict[str, dict[str, Callable[[int], BaseEstimator]]] = {
    "logistic": {"classification": lambda seed: LogisticRegression(max_iter=2000, random_state=seed)},
    "linear": {
        "classification": lambda seed: LogisticRegression(max_iter=2000, random_state=seed),
        "regression": lambda seed: LinearRegression(),
    },
    "random_forest": {
        "classification": lambda seed: RandomForestClassifier(random_state=seed, n_jobs=1),
        "regression": lambda seed: RandomForestRegressor(random_state=seed, n_jobs=1),
    },
    "gradient_boosting": {
        "classification": lambda seed: GradientBoostingClassifier(random_state=seed),
        "regression": lambda seed: GradientBoostingRegressor(random_state=seed),
    },
    "hist_gradient_boosting": {
        "classification": lambda seed: HistGradientBoostingClassifier(random_state=seed),
        "regression": lambda seed: HistGradientBoostingRegressor(random_state=seed),
    },
}
# Linear models need scaled inputs; trees do not care, so they skip the scaler.
SCALED_FAMILIES = frozenset({"logistic", "linear"})


def categorical_columns(features: pd.DataFrame) -> list[str]:
    """Columns that are not numeric: strings, categories and booleans get one-hot encoded."""
    return [
        str(column)
        for column, dtype in features.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]


def build_pipeline(
    family: str, task: ResolvedTask, features: pd.DataFrame, params: Mapping[str, Any], seed: int
) -> Pipeline:
    """Preprocessing (imputation, scaling for linear models, one-hot for categoricals) + the estimator.

    Unknown families, families that cannot do `task`, and unknown or invalid parameters are
    `InputError`s, so they are reported before any run starts.
    """
    by_task = FAMILIES.get(family)
    if by_task is None:
        raise InputError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")
    factory = by_task.get(task)
    if factory is None:
        raise InputError(f"model family {family!r} does not do {task}; choose another --model")
    estimator = factory(seed)
    _apply_params(estimator, family, params)

    categorical = categorical_columns(features)
    numeric = [str(column) for column in features.columns if str(column) not in categorical]
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if family in SCALED_FAMILIES:
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        categorical_steps = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("categorical", categorical_steps, categorical))
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def _apply_params(estimator: BaseEstimator, family: str, params: Mapping[str, Any]) -> None:
    valid = estimator.get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise InputError(
            f"unknown parameter(s) for {family}: {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
        )
    estimator.set_params(**params)
    try:
        # scikit-learn checks types and ranges lazily in fit(); ask now so a typo fails before the run.
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise InputError(f"invalid parameter for {family}: {exc}") from exc
