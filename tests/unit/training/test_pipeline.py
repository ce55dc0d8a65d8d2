from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from training.errors import InputError
from training.pipeline import FAMILIES, build_pipeline, categorical_columns


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_family_fits_and_predicts_its_tasks(family: str, task: str, mixed_frame: pd.DataFrame) -> None:
    if task not in FAMILIES[family]:
        with pytest.raises(InputError, match=f"does not do {task}"):
            build_pipeline(family, task, mixed_frame, {}, 0)  # type: ignore[arg-type]
        return
    features = mixed_frame.drop(columns=["label"])
    target = mixed_frame["label"] if task == "classification" else features["count"] * 1.5
    model = build_pipeline(family, task, features, {}, 0).fit(features, target)  # type: ignore[arg-type]
    predictions = model.predict(features.head(7))
    assert len(predictions) == 7


def test_categorical_columns_are_one_hot_encoded_and_unknown_categories_ignored(
    mixed_frame: pd.DataFrame,
) -> None:
    features = mixed_frame.drop(columns=["label"])
    assert categorical_columns(features) == ["colour"]
    model = build_pipeline("logistic", "classification", features, {}, 0).fit(features, mixed_frame["label"])
    names = list(model.named_steps["preprocess"].get_feature_names_out())
    assert {"colour_red", "colour_green", "colour_blue"} <= set(names)
    unseen = features.head(2).assign(colour="purple")
    assert len(model.predict(unseen)) == 2


def test_linear_models_scale_and_trees_do_not() -> None:
    features, _ = load_iris(return_X_y=True, as_frame=True)
    linear = build_pipeline("logistic", "classification", features, {}, 0)
    forest = build_pipeline("random_forest", "classification", features, {}, 0)
    assert "scale" in linear.named_steps["preprocess"].transformers[0][1].named_steps
    assert "scale" not in forest.named_steps["preprocess"].transformers[0][1].named_steps


def test_same_seed_gives_the_same_model() -> None:
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    first = build_pipeline("random_forest", "regression", features, {"n_estimators": 20}, 7).fit(
        features, target
    )
    second = build_pipeline("random_forest", "regression", features, {"n_estimators": 20}, 7).fit(
        features, target
    )
    assert (first.predict(features) == second.predict(features)).all()


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("svm", {}, "unknown model family 'svm'"),
        ("logistic", {"Cx": 1}, "unknown parameter(s) for logistic: Cx"),
        ("logistic", {"C": -1.0}, "invalid parameter for logistic"),
        ("random_forest", {"n_estimators": "many"}, "invalid parameter for random_forest"),
    ],
)
def test_bad_family_or_params_are_input_errors(family: str, params: dict, message: str) -> None:
    features, _ = load_iris(return_X_y=True, as_frame=True)
    with pytest.raises(InputError) as caught:
        build_pipeline(family, "classification", features, params, 0)
    assert message in str(caught.value)
