"""A small profile of the training features, logged as an artifact for later drift checks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from training.pipeline import categorical_columns

# Category frequencies beyond this many values are summarised as "other".
TOP_CATEGORIES = 20


def profile_features(features: pd.DataFrame) -> dict[str, Any]:
    """Per column: count, missing, and mean/std/min/max for numbers or value frequencies for categories."""
    categorical = set(categorical_columns(features))
    columns: dict[str, Any] = {}
    for column in features.columns:
        series = features[column]
        entry: dict[str, Any] = {
            "dtype": str(series.dtype),
            "count": int(series.notna().sum()),
            "missing": int(series.isna().sum()),
        }
        if str(column) in categorical:
            frequencies = series.astype("string").value_counts(normalize=True, dropna=True)
            top = frequencies.head(TOP_CATEGORIES)
            entry["frequencies"] = {str(value): round(float(share), 6) for value, share in top.items()}
            entry["other_share"] = round(float(frequencies.iloc[TOP_CATEGORIES:].sum()), 6)
        else:
            numeric = series.astype("float64")
            entry.update(
                mean=_finite(numeric.mean()),
                std=_finite(numeric.std()),
                min=_finite(numeric.min()),
                max=_finite(numeric.max()),
            )
        columns[str(column)] = entry
    return {"rows": len(features), "columns": columns}


def _finite(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 9)
