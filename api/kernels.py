"""Numpy kernels for the most common fitted pipelines: imputer and scaler steps followed by a linear
model, computed directly on the validated float matrix.

scikit-learn re-validates its input in every step (about 200 µs each, whatever the row count), which
dwarfs the arithmetic of a linear model. A kernel performs the same operations in the same order on
the fitted attributes, so it gives the pipeline's results; `LoadedModel.warm()` compares it with the
pipeline on the logged input example and drops it if anything differs. Pipelines with any other step
get no kernel and keep the scikit-learn path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.extmath import softmax


class LinearKernel:
    """transform (NaN fill, standardise) then `X @ coef.T + intercept`, as the fitted pipeline does."""

    def __init__(self, steps: list[tuple[str, Any, Any]], model: Any) -> None:
        self._steps = steps
        self._coef_t = model.coef_.T if model.coef_.ndim == 2 else model.coef_
        self._intercept = model.intercept_
        self._classifier = isinstance(model, LogisticRegression)
        self.classes_ = getattr(model, "classes_", None)

    def _transformed(self, X: np.ndarray) -> np.ndarray:
        X = X.copy()
        for kind, first, second in self._steps:
            if kind == "fill":
                missing = np.isnan(X)
                if missing.any():
                    X[missing] = np.take(first, np.nonzero(missing)[1])
            else:
                if first is not None:
                    X -= first
                if second is not None:
                    X /= second
        return X

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        scores = self._transformed(X) @ self._coef_t + self._intercept
        return scores.reshape(-1) if scores.ndim > 1 and scores.shape[1] == 1 else scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        if not self._classifier:
            return scores
        indices = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_.take(indices, axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        if len(self.classes_) <= 2:
            probability = expit(scores)
            return np.stack([1 - probability, probability], axis=1)
        return softmax(scores, copy=False)


def linear_kernel(branch: Any, model: Any) -> LinearKernel | None:
    """A kernel for (imputer | scaler)* then a linear model, or None when the pipeline has anything else."""
    if not isinstance(model, LogisticRegression | LinearRegression | Ridge):
        return None
    steps: list[tuple[str, Any, Any]] = []
    for _, step in branch.steps if isinstance(branch, Pipeline) else [("only", branch)]:
        if step in ("passthrough", None):
            continue
        if isinstance(step, SimpleImputer):
            statistics = np.asarray(step.statistics_, dtype=np.float64)
            missing_is_nan = isinstance(step.missing_values, float) and np.isnan(step.missing_values)
            if step.add_indicator or not missing_is_nan or np.isnan(statistics).any():
                return None  # an indicator or a dropped all-missing column changes the shape
            steps.append(("fill", statistics, None))
        elif isinstance(step, StandardScaler):
            steps.append(
                ("scale", step.mean_ if step.with_mean else None, step.scale_ if step.with_std else None)
            )
        else:
            return None
    return LinearKernel(steps, model)
