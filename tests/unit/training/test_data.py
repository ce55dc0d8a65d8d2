from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.data import fingerprint, load_dataset
from training.errors import InputError


@pytest.mark.parametrize(
    ("name", "rows", "features"),
    [("iris", 150, 4), ("wine", 178, 13), ("breast_cancer", 569, 30), ("diabetes", 442, 10)],
)
def test_bundled_datasets_load_with_their_target(name: str, rows: int, features: int) -> None:
    dataset = load_dataset(f"sklearn:{name}", None)
    assert dataset.features.shape == (rows, features)
    assert dataset.target_name == "target"
    assert len(dataset.target) == rows
    assert len(dataset.fingerprint) == 64


def test_csv_and_parquet_of_the_same_rows_have_the_same_fingerprint(
    tmp_path: Path, csv_file: Path, mixed_frame: pd.DataFrame
) -> None:
    parquet = tmp_path / "mixed.parquet"
    pd.read_csv(csv_file).to_parquet(parquet)
    from_csv = load_dataset(str(csv_file), "label")
    from_parquet = load_dataset(str(parquet), "label")
    assert from_csv.fingerprint == from_parquet.fingerprint
    assert list(from_csv.features.columns) == ["size", "colour", "count"]


def test_fingerprint_changes_when_one_value_changes(mixed_frame: pd.DataFrame) -> None:
    changed = mixed_frame.copy()
    changed.loc[3, "count"] = 99
    assert fingerprint(mixed_frame) != fingerprint(changed)
    assert fingerprint(mixed_frame) == fingerprint(mixed_frame.copy())


def test_rows_without_target_are_dropped(tmp_path: Path, mixed_frame: pd.DataFrame) -> None:
    mixed_frame.loc[:9, "label"] = np.nan
    path = tmp_path / "gaps.csv"
    mixed_frame.to_csv(path, index=False)
    assert len(load_dataset(str(path), "label").target) == len(mixed_frame) - 10


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        (None, "label", "no such file"),
        (b"", "label", "empty (0 bytes)"),
        (b"a,b\n1,2\n", "label", "target column 'label' not found (columns: a, b)"),
        (b"a,label\n", "label", "has no rows"),
        (b"a,label\n1,\n2,\n", "label", "target column 'label' has no values"),
        (b"a,a,label\n1,2,x\n", "label", "duplicate column name(s): a"),
        (b"label\nx\ny\n", "label", "no feature columns"),
        (b"a,b,label\n,,x\n,,y\n", "label", "every feature column is empty"),
    ],
)
def test_bad_files_are_input_errors_naming_the_problem(
    tmp_path: Path, content: bytes | None, target: str, message: str
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=r"data\.csv") as caught:
        load_dataset(str(path), target)
    assert message in str(caught.value)


def test_file_dataset_needs_a_target(csv_file: Path) -> None:
    with pytest.raises(InputError, match="--target is required"):
        load_dataset(str(csv_file), None)


def test_unknown_bundled_dataset_and_file_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown bundled dataset sklearn:mnist"):
        load_dataset("sklearn:mnist", None)
    other = tmp_path / "data.json"
    other.write_text("{}")
    with pytest.raises(InputError, match=r"unsupported file type \.json"):
        load_dataset(str(other), "x")


def test_files_outside_the_data_dir_are_refused(tmp_path: Path, csv_file: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    with pytest.raises(InputError, match="outside the allowed data directory"):
        load_dataset(str(csv_file), "label", data_dir=allowed)
    inside = allowed / "ok.csv"
    inside.write_bytes(csv_file.read_bytes())
    assert load_dataset(str(inside), "label", data_dir=allowed).features.shape[0] > 0
    escape = allowed / ".." / "mixed.csv"
    with pytest.raises(InputError, match="outside the allowed data directory"):
        load_dataset(str(escape), "label", data_dir=allowed)


def test_malformed_s3_uri_is_an_input_error() -> None:
    with pytest.raises(InputError, match="expected s3://bucket/key"):
        load_dataset("s3://bucket-only.csv", "y")


def test_mostly_numeric_text_column_is_refused_but_categories_are_not(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("size,colour,y\n1,red,0\n2,blue,1\ntwelve,red,0\n4,blue,1\n")
    with pytest.raises(InputError, match=r"column 'size' mixes numbers and text .*data row 3 is 'twelve'"):
        load_dataset(str(mixed), "y")
    categories = tmp_path / "categories.csv"
    categories.write_text("grade,colour,y\nA1,red,0\n7,blue,1\nB2,red,0\nC3,blue,1\n")
    assert list(load_dataset(str(categories), "y").features.columns) == ["grade", "colour"]
