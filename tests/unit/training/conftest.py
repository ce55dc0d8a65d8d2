"""Small generated datasets for the trainer's unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """Numeric and categorical features with a few gaps, and a binary text target."""
    rng = np.random.default_rng(0)
    rows = 120
    size = rng.normal(10, 2, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    frame = pd.DataFrame({"size": size, "colour": colour, "count": rng.integers(0, 5, rows)})
    frame.loc[::17, "size"] = np.nan
    frame["label"] = np.where(size + (colour == "red") * 3 > 11, "big", "small")
    return frame


@pytest.fixture
def csv_file(tmp_path: Path, mixed_frame: pd.DataFrame) -> Path:
    path = tmp_path / "mixed.csv"
    mixed_frame.to_csv(path, index=False)
    return path
