from __future__ import annotations

import pytest

from training.errors import InputError
from training.sweep import MAX_CANDIDATES, expand_grid


def test_no_grid_is_one_candidate_with_the_base_params() -> None:
    assert expand_grid({"C": 1.0}, {}) == [{"C": 1.0}]


def test_grid_points_overlay_the_base_params() -> None:
    candidates = expand_grid({"C": 1.0, "max_iter": 50}, {"C": [0.1, 10.0], "tol": [1e-3, 1e-4]})
    assert candidates == [
        {"C": 0.1, "max_iter": 50, "tol": 1e-3},
        {"C": 0.1, "max_iter": 50, "tol": 1e-4},
        {"C": 10.0, "max_iter": 50, "tol": 1e-3},
        {"C": 10.0, "max_iter": 50, "tol": 1e-4},
    ]


@pytest.mark.parametrize("values", [[], "abc", 3])
def test_grid_values_must_be_a_non_empty_list(values: object) -> None:
    with pytest.raises(InputError, match=r"grid\.C must be a non-empty list"):
        expand_grid({}, {"C": values})  # type: ignore[dict-item]


def test_oversized_grid_is_refused() -> None:
    with pytest.raises(InputError, match=f"the limit is {MAX_CANDIDATES}"):
        expand_grid({}, {"a": list(range(30)), "b": list(range(30))})
