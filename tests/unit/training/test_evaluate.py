from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from training.evaluate import PRIMARY, evaluate, infer_task
from training.pipeline import build_pipeline


@pytest.mark.parametrize(
    ("target", "task"),
    [
        (pd.Series(["a", "b", "a"]), "classification"),
        (pd.Series([True, False, True]), "classification"),
        (pd.Series([0, 1, 2, 1]), "classification"),
        (pd.Series(range(500)), "regression"),
        (pd.Series([0.5, 1.5, 2.25]), "regression"),
    ],
)
def test_task_follows_the_target(target: pd.Series, task: str) -> None:
    assert infer_task(target) == task


def test_classification_metrics_include_auc() -> None:
    features, target = load_iris(return_X_y=True, as_frame=True)
    model = build_pipeline("logistic", "classification", features, {}, 0).fit(features, target)
    metrics = evaluate(model, "classification", features, target)
    assert set(metrics) == {"accuracy", "f1", "roc_auc"}
    assert 0.9 < metrics["accuracy"] <= 1.0


def test_regression_metrics() -> None:
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    model = build_pipeline("linear", "regression", features, {}, 0).fit(features, target)
    metrics = evaluate(model, "regression", features, target)
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["rmse"] > metrics["mae"] > 0


def test_primary_metric_direction() -> None:
    assert PRIMARY["classification"].improvement(0.9, 0.8) == pytest.approx(0.1)
    assert PRIMARY["regression"].improvement(40.0, 50.0) == pytest.approx(10.0)
