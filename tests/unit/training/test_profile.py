from __future__ import annotations

import json

import pandas as pd

from training.profile import profile_features


def test_profile_has_numeric_stats_and_category_frequencies(mixed_frame: pd.DataFrame) -> None:
    profile = profile_features(mixed_frame.drop(columns=["label"]))
    assert profile["rows"] == len(mixed_frame)
    size = profile["columns"]["size"]
    assert size["missing"] == mixed_frame["size"].isna().sum()
    assert size["min"] <= size["mean"] <= size["max"]
    colour = profile["columns"]["colour"]
    assert set(colour["frequencies"]) == {"red", "green", "blue"}
    assert abs(sum(colour["frequencies"].values()) - 1.0) < 1e-6
    json.dumps(profile)  # must be JSON-serialisable as an artifact
