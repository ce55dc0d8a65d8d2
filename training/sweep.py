"""Expand a parameter grid into candidates: each is the base params overlaid with one grid point."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from training.errors import InputError

# A grid this large is almost certainly a typo; refuse it instead of training for hours.
MAX_CANDIDATES = 500


def expand_grid(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """All combinations of `grid` values, each merged over `base`; just `[base]` without a grid."""
    if not grid:
        return [dict(base)]
    for key, values in grid.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) == 0:
            raise InputError(f"grid.{key} must be a non-empty list of values")
    keys = list(grid)
    size = 1
    for key in keys:
        size *= len(grid[key])
    if size > MAX_CANDIDATES:
        raise InputError(f"the grid has {size} candidates; the limit is {MAX_CANDIDATES}")
    return [{**base, **dict(zip(keys, point, strict=True))} for point in itertools.product(*grid.values())]
