"""Task inference and the metrics logged for each task, with the primary metric the gate compares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline

from training.pipeline import ResolvedTask

# An integer target with at most this many distinct values is treated as class labels.
MAX_CLASSES_FOR_INTEGER_TARGET = 50


@dataclass(frozen=True)
class PrimaryMetric:
    """The metric the promotion gate compares, and which direction is better."""

    name: str
    greater_is_better: bool

    def improvement(self, candidate: float, champion: float) -> float:
        """How much better the candidate is (positive = better), whatever the direction."""
        return candidate - champion if self.greater_is_better else champion - candidate


PRIMARY = {
    "classification": PrimaryMetric("f1", greater_is_better=True),
    "regression": PrimaryMetric("rmse", greater_is_better=False),
}


def infer_task(target: pd.Series) -> ResolvedTask:
    """Classification for text, boolean or low-cardinality integer targets; regression otherwise."""
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "classification"
    return "regression"


def evaluate(
    model: Pipeline, task: ResolvedTask, features: pd.DataFrame, target: pd.Series
) -> dict[str, float]:
    """Score a fitted pipeline on held-out rows."""
    predictions = model.predict(features)
    if task == "regression":
        return {
            "rmse": float(root_mean_squared_error(target, predictions)),
            "mae": float(mean_absolute_error(target, predictions)),
            "r2": float(r2_score(target, predictions)),
        }
    metrics = {
        "accuracy": float(accuracy_score(target, predictions)),
        "f1": float(f1_score(target, predictions, average="weighted")),
    }
    auc = _roc_auc(model, features, target)
    if auc is not None:
        metrics["roc_auc"] = auc
    return metrics


def _roc_auc(model: Pipeline, features: pd.DataFrame, target: pd.Series) -> float | None:
    if not hasattr(model, "predict_proba"):
        return None
    classes = list(model.classes_)
    if target.nunique() < 2:
        return None  # AUC is undefined on a single-class holdout
    probabilities = model.predict_proba(features)
    try:
        if len(classes) == 2:
            return float(roc_auc_score(target, probabilities[:, 1]))
        return float(
            roc_auc_score(
                target, probabilities, multi_class="ovr", average="weighted", labels=np.asarray(classes)
            )
        )
    except ValueError:
        return None  # e.g. a multiclass holdout that lacks one of the classes
