"""Load a dataset from a bundled scikit-learn set, a local CSV/Parquet file or an S3 object.

Every problem a user can cause (missing file, unknown target, empty data) is an `InputError` raised
before any MLflow run exists, so a bad invocation leaves nothing behind in the tracking server.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from sklearn import datasets as sk_datasets

from training.errors import InputError

logger = logging.getLogger("training.data")

BUNDLED = {
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "diabetes": sk_datasets.load_diabetes,
    "digits": sk_datasets.load_digits,
}
FILE_READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Dataset:
    """Features and target, where they came from, and a content fingerprint."""

    features: pd.DataFrame
    target: pd.Series
    name: str
    source: str
    fingerprint: str

    @property
    def target_name(self) -> str:
        return str(self.target.name)


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the frame's content: column names, dtypes and every value, independent of the index.

    The same rows in the same order give the same digest whether they came from CSV, Parquet or S3.
    """
    digest = hashlib.sha256()
    header = [[str(column), str(dtype)] for column, dtype in frame.dtypes.items()]
    digest.update(json.dumps(header).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_dataset(spec: str, target: str | None, *, data_dir: Path | None = None) -> Dataset:
    """Resolve `spec` (sklearn:NAME, a path, or s3://bucket/key) into a validated `Dataset`."""
    if spec.startswith("sklearn:"):
        frame, default_target = _load_bundled(spec.removeprefix("sklearn:"))
        target = target or default_target
    elif spec.startswith("s3://"):
        frame = _read_bytes(_download_s3(spec), Path(urlparse(spec).path).suffix.lower(), spec)
    else:
        frame = _read_local(Path(spec), data_dir)
    if target is None:
        raise InputError(f"{spec}: --target is required for file datasets (columns: {_columns(frame)})")
    return _split_target(frame, target, spec)


def _load_bundled(name: str) -> tuple[pd.DataFrame, str]:
    loader = BUNDLED.get(name)
    if loader is None:
        raise InputError(f"unknown bundled dataset sklearn:{name}; choose one of {', '.join(BUNDLED)}")
    bunch = loader(as_frame=True)
    return bunch.frame, "target"


def _read_local(path: Path, data_dir: Path | None) -> pd.DataFrame:
    if data_dir is not None:
        resolved, allowed = path.resolve(), data_dir.resolve()
        if not resolved.is_relative_to(allowed):
            raise InputError(f"{path}: outside the allowed data directory {allowed}")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    return _read_bytes(path.read_bytes(), path.suffix.lower(), str(path))


def _read_bytes(payload: bytes, suffix: str, label: str) -> pd.DataFrame:
    kind = FILE_READERS.get(suffix)
    if kind is None:
        raise InputError(f"{label}: unsupported file type {suffix or '(none)'}; use .csv or .parquet")
    if not payload:
        raise InputError(f"{label}: the file is empty (0 bytes)")
    try:
        if kind == "csv":
            _reject_duplicate_csv_columns(payload, label)
            return pd.read_csv(io.BytesIO(payload))
        return pd.read_parquet(io.BytesIO(payload))
    except InputError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        raise InputError(f"{label}: cannot be read as {kind}: {exc}") from exc


def _reject_duplicate_csv_columns(payload: bytes, label: str) -> None:
    # pandas silently renames a repeated header to "name.1"; a repeated column is almost always a mistake.
    header_line = payload.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    names = [name.strip() for name in next(csv.reader([header_line]), [])]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"{label}: duplicate column name(s): {', '.join(duplicates)}")


def _download_s3(uri: str) -> bytes:
    import boto3  # only s3:// datasets need it
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(uri)
    if not parsed.netloc or not parsed.path.strip("/"):
        raise InputError(f"{uri}: expected s3://bucket/key")
    endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    client = boto3.client("s3", endpoint_url=endpoint)
    try:
        response = client.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        return response["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise InputError(f"{uri}: {code}: {exc.response.get('Error', {}).get('Message', exc)}") from exc
    except BotoCoreError as exc:
        raise InputError(f"{uri}: {exc}") from exc


def _split_target(frame: pd.DataFrame, target: str, label: str) -> Dataset:
    if target not in frame.columns:
        raise InputError(f"{label}: target column {target!r} not found (columns: {_columns(frame)})")
    if frame.empty:
        raise InputError(f"{label}: the dataset has no rows")
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise InputError(f"{label}: target column {target!r} has no values (all empty or NaN)")
    dropped = len(frame) - len(labelled)
    if dropped:
        logger.warning("dropped rows without a target", extra={"rows": dropped, "target": target})
    features = labelled.drop(columns=[target])
    if features.shape[1] == 0:
        raise InputError(f"{label}: no feature columns besides the target {target!r}")
    _reject_mixed_columns(features, label)
    empty = [str(column) for column in features.columns if features[column].isna().all()]
    if len(empty) == features.shape[1]:
        raise InputError(f"{label}: every feature column is empty or NaN")
    return Dataset(
        features=features.reset_index(drop=True),
        target=labelled[target].reset_index(drop=True),
        name=_dataset_name(label),
        source=label,
        fingerprint=fingerprint(labelled.reset_index(drop=True)),
    )


def _reject_mixed_columns(features: pd.DataFrame, label: str) -> None:
    """A text column whose values are mostly numbers is a data error ("12", "n/a", "13.5"), not a
    category: one-hot encoding every distinct number would train a silently wrong model."""
    for column in features.columns:
        values = features[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        present = values.dropna()
        if present.empty:
            continue
        numeric = pd.to_numeric(present, errors="coerce")
        numbers = int(numeric.notna().sum())
        if numbers * 2 >= len(present) and numbers < len(present):
            row = numeric.isna().idxmax()
            raise InputError(
                f"{label}: column {column!r} mixes numbers and text "
                f"({numbers} of {len(present)} values are numbers; data row {int(row) + 1} is {present[row]!r}); "
                "clean it or make it all text"
            )


def _dataset_name(label: str) -> str:
    if label.startswith("sklearn:"):
        return label.removeprefix("sklearn:")
    return Path(urlparse(label).path).stem or label


def _columns(frame: pd.DataFrame) -> str:
    names = [str(column) for column in frame.columns]
    return ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
