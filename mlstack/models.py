"""Save and load scikit-learn models with skops and OUR allow-list of types.

MLflow keeps the skops trusted-types list inside the model's own MLmodel file, so a crafted model
could trust anything. mlstack instead loads with the fixed list below: a model that needs any other
type is refused, whatever its MLmodel says. These are the types our estimator families produce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.artifacts
import skops.io
import yaml

SKOPS_TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


class ModelFormatError(ValueError):
    """The artifact is not an sklearn-flavour MLflow model saved with skops."""


def download_model(model_uri: str, dst_dir: Path) -> Path:
    """Download `models:/NAME/VERSION` (through the tracking server's artifact proxy) into `dst_dir`."""
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(dst_dir)))


def read_mlmodel(model_dir: Path) -> dict[str, Any]:
    """The parsed MLmodel file of a downloaded model."""
    try:
        loaded = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModelFormatError(f"{model_dir}: unreadable MLmodel file: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ModelFormatError(f"{model_dir}: MLmodel is not a mapping")
    return loaded


def load_sklearn_model(model_dir: Path) -> Any:
    """Load the fitted estimator of a downloaded model, refusing anything outside the allow-list."""
    flavor = read_mlmodel(model_dir).get("flavors", {}).get("sklearn")
    if not isinstance(flavor, dict):
        raise ModelFormatError(f"{model_dir}: not an sklearn model (no sklearn flavour in MLmodel)")
    if flavor.get("serialization_format") != "skops":
        raise ModelFormatError(
            f"{model_dir}: serialized as {flavor.get('serialization_format')!r}; only skops is loaded"
        )
    path = model_dir / str(flavor.get("pickled_model", "model.skops"))
    try:
        return skops.io.load(path, trusted=SKOPS_TRUSTED_TYPES)
    except Exception as exc:  # skops raises several types for a corrupt or untrusted file
        raise ModelFormatError(f"{path}: cannot be loaded: {exc}") from exc
