"""Trainer settings: defaults < YAML config file < MLSTACK_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from training.errors import InputError

Task = Literal["auto", "classification", "regression"]


class TrainerSettings(BaseSettings):
    """Everything one training run needs; each field has a `--flag` and an `MLSTACK_` variable."""

    model_config = SettingsConfigDict(
        env_prefix="MLSTACK_", extra="forbid", protected_namespaces=(), use_attribute_docstrings=True
    )

    data: str = "sklearn:iris"
    """Dataset: sklearn:NAME, a local .csv/.parquet path, or s3://bucket/key."""
    target: str | None = None
    """Target column of a file dataset (bundled datasets know theirs)."""
    task: Task = "auto"
    """classification, regression, or auto (follows the target column)."""
    model: str = "logistic"
    """Estimator family: logistic, linear, random_forest, gradient_boosting, hist_gradient_boosting."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Estimator parameters, e.g. {"C": 0.5}."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Sweep grid: every combination is a nested run; the best on validation is registered."""
    model_name: str = "mlstack-model"
    """Registered model name."""
    model_alias: str = "production"
    """Registry alias that means Production."""
    seed: int = 42
    """Seed for the split and the estimator, so reruns give the same metrics."""
    test_size: float = Field(default=0.2, gt=0.0, lt=1.0)
    """Fraction of rows held out for evaluation."""
    experiment: str = "mlstack"
    """MLflow experiment the run is logged under."""
    min_improvement: float = Field(default=0.0, ge=0.0)
    """How much the candidate must beat the current Production version by to take the alias."""
    data_dir: Path | None = None
    """If set, local dataset files must live under this directory."""
    mlflow_wait_seconds: float = Field(default=120.0, ge=0.0)
    """How long to wait for the tracking server before giving up."""
    gate_lock_timeout_seconds: float = Field(default=600.0, ge=0.0)
    """How long to wait while another trainer of the same model is gating."""
    gate_lock_ttl_seconds: float = Field(default=300.0, gt=0.0)
    """After this long a gate lock left by a killed trainer is taken over."""


# Keys a config file may spell the way the flags do.
_FILE_KEY_ALIASES = {"alias": "model_alias"}


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML config file into settings keys; an unreadable or non-mapping file is an InputError."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"config file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"config file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InputError(f"config file {path} must hold a mapping of settings, not {type(loaded).__name__}")
    return {_FILE_KEY_ALIASES.get(str(key), str(key)): value for key, value in loaded.items()}


def load_settings(cli_values: dict[str, Any], config_file: Path | None) -> TrainerSettings:
    """Build settings from flags, environment and an optional YAML file, in that order of precedence."""
    file_values = read_config_file(config_file) if config_file is not None else {}

    class _Layered(TrainerSettings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=file_values)

    return _Layered(**cli_values)
