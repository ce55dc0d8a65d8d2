"""Numpy kernels for the most common fitted pipelines: imputer and scaler steps followed by a linear
model or a random forest classifier, computed directly on the validated float matrix.

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
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.extmath import softmax


class _Kernel:
    """The numeric steps (NaN fill, standardise) shared by every kernel."""

    def __init__(self, steps: list[tuple[str, Any, Any]]) -> None:
        self._steps = steps

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


class LinearKernel(_Kernel):
    """The numeric steps, then `X @ coef.T + intercept`, as the fitted pipeline computes them."""

    def __init__(self, steps: list[tuple[str, Any, Any]], model: Any) -> None:
        super().__init__(steps)
        self._coef_t = model.coef_.T if model.coef_.ndim == 2 else model.coef_
        self._intercept = model.intercept_
        self._classifier = isinstance(model, LogisticRegression)
        self.classes_ = getattr(model, "classes_", None)

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


class ForestKernel(_Kernel):
    """The numeric steps, then the mean of the trees' class fractions, summed in tree order as
    RandomForestClassifier.predict_proba does, without its per-tree input checks and joblib dispatch."""

    def __init__(self, steps: list[tuple[str, Any, Any]], model: RandomForestClassifier) -> None:
        super().__init__(steps)
        self._trees = [tree.tree_ for tree in model.estimators_]
        self._n_classes = int(model.n_classes_)
        self.classes_ = model.classes_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X32 = np.ascontiguousarray(self._transformed(X), dtype=np.float32)
        total = np.zeros((X32.shape[0], self._n_classes), dtype=np.float64)
        for tree in self._trees:
            total += tree.predict(X32)[:, : self._n_classes]
        total /= len(self._trees)
        return total

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_.take(self.predict_proba(X).argmax(axis=1), axis=0)


def model_kernel(branch: Any, model: Any) -> _Kernel | None:
    """A kernel for (imputer | scaler)* then a supported model, or None for anything else."""
    if isinstance(model, LogisticRegression | LinearRegression | Ridge):
        kernel_class: type[_Kernel] = LinearKernel
    elif isinstance(model, RandomForestClassifier) and model.n_outputs_ == 1:
        kernel_class = ForestKernel
    else:
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
    return kernel_class(steps, model)  # type: ignore[call-arg]
