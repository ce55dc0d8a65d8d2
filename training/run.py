"""One training run end to end: prepare (no side effects), then log, register and gate in MLflow."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.data
import mlflow.sklearn
import pandas as pd
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from mlstack.models import SKOPS_TRUSTED_TYPES, download_model, load_sklearn_model
from mlstack.registry import TAG_FINGERPRINT, TAG_PRIMARY_METRIC, ModelVersionRef, Registry
from training.data import Dataset, load_dataset
from training.errors import InputError
from training.evaluate import PRIMARY, PrimaryMetric, evaluate, infer_task
from training.gate import GateDecision, decide
from training.gate_lock import GateLock
from training.pipeline import ResolvedTask, build_pipeline
from training.profile import profile_features
from training.provenance import provenance_tags
from training.settings import TrainerSettings
from training.sweep import expand_grid

logger = logging.getLogger("training.run")

# Share of the training rows held back to choose between sweep candidates.
VALIDATION_SHARE = 0.25
INPUT_EXAMPLE_ROWS = 5

# Called once per sweep candidate (index, total); the CLI turns it into a progress bar.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Prepared:
    """Everything validated before a run exists: a bad input never reaches MLflow."""

    settings: TrainerSettings
    dataset: Dataset
    task: ResolvedTask
    primary: PrimaryMetric
    candidates: list[dict[str, Any]]


@dataclass
class TrainResult:
    """What the run produced; the CLI prints it and `--summary-json` writes it."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    model_name: str
    alias: str
    version: str
    task: str
    metrics: dict[str, float]
    params: dict[str, Any]
    fingerprint: str
    decision: GateDecision
    alias_moved: bool
    candidates: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_url(self) -> str | None:
        if not self.tracking_uri.startswith(("http://", "https://")):
            return None
        return f"{self.tracking_uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run_id}"


def prepare(settings: TrainerSettings) -> Prepared:
    """Load and check the data, resolve the task, and build every candidate pipeline once to validate it."""
    dataset = load_dataset(settings.data, settings.target, data_dir=settings.data_dir)
    task: ResolvedTask = infer_task(dataset.target) if settings.task == "auto" else settings.task
    if task == "classification":
        classes = dataset.target.nunique()
        if classes < 2:
            raise InputError(
                f"{settings.data}: target {dataset.target_name!r} has only one class; classification needs two"
            )
    elif not pd.api.types.is_numeric_dtype(dataset.target):
        raise InputError(
            f"{settings.data}: target {dataset.target_name!r} is not numeric; regression needs numbers"
        )
    candidates = expand_grid(settings.params, settings.grid)
    for params in candidates:
        build_pipeline(settings.model, task, dataset.features, params, settings.seed)
    return Prepared(settings, dataset, task, PRIMARY[task], candidates)


def train(prepared: Prepared, registry: Registry, progress: ProgressCallback | None = None) -> TrainResult:
    """Fit, evaluate, log, register and gate. Any failure marks the run FAILED and registers nothing."""
    settings = prepared.settings
    mlflow.set_tracking_uri(registry.tracking_uri)
    experiment = mlflow.set_experiment(settings.experiment)
    x_train, x_test, y_train, y_test = _split(prepared, settings.test_size)

    with mlflow.start_run(run_name=f"{settings.model}-{prepared.dataset.name}") as run:
        mlflow.set_tags({**provenance_tags(), TAG_FINGERPRINT: prepared.dataset.fingerprint})
        _log_inputs(prepared, x_train)
        params = _choose_params(prepared, x_train, y_train, progress)
        model = build_pipeline(settings.model, prepared.task, x_train, params, settings.seed)
        model.fit(x_train, y_train)
        metrics = evaluate(model, prepared.task, x_test, y_test)
        mlflow.log_params({f"model.{key}": value for key, value in params.items()})
        mlflow.log_metrics(metrics)
        model_info = _log_model(model, x_train)
        version = _register(prepared, model_info.model_uri, run.info.run_id)
        try:
            with _gate_lock(settings, registry).held():
                decision = _gate(prepared, registry, version, metrics, x_test, y_test)
        except BaseException:
            _delete_version(registry, version)
            raise
    return TrainResult(
        run_id=run.info.run_id,
        experiment_id=experiment.experiment_id,
        tracking_uri=registry.tracking_uri,
        model_name=settings.model_name,
        alias=settings.model_alias,
        version=version.version,
        task=prepared.task,
        metrics=metrics,
        params=params,
        fingerprint=prepared.dataset.fingerprint,
        decision=decision,
        alias_moved=decision.promote,
        candidates=len(prepared.candidates),
    )


def _log_model(model: Pipeline, x_train: pd.DataFrame) -> ModelInfo:
    """Log the pipeline with its signature and an input example, saved with skops."""
    example = x_train.head(INPUT_EXAMPLE_ROWS)
    return mlflow.sklearn.log_model(
        model,
        name="model",
        signature=infer_signature(x_train, model.predict(example)),
        input_example=example,
        # skops (MLflow's default) loads without executing pickled code; the allow-list is ours.
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )


def _split(prepared: Prepared, test_size: float) -> list[pd.DataFrame | pd.Series]:
    features, target = prepared.dataset.features, prepared.dataset.target
    return train_test_split(
        features,
        target,
        test_size=test_size,
        random_state=prepared.settings.seed,
        stratify=_stratify(prepared.task, target),
    )


def _stratify(task: ResolvedTask, target: pd.Series) -> pd.Series | None:
    # Stratify when every class can appear on both sides; otherwise a plain shuffle.
    if task == "classification" and target.value_counts().min() >= 2:
        return target
    return None


def _log_inputs(prepared: Prepared, x_train: pd.DataFrame) -> None:
    settings, dataset = prepared.settings, prepared.dataset
    mlflow.log_params(
        {
            "data": settings.data,
            "target": dataset.target_name,
            "task": prepared.task,
            "model_family": settings.model,
            "seed": settings.seed,
            "test_size": settings.test_size,
            "min_improvement": settings.min_improvement,
            "dataset_fingerprint": dataset.fingerprint,
            "rows": len(dataset.features),
            "features": dataset.features.shape[1],
        }
    )
    frame = dataset.features.assign(**{dataset.target_name: dataset.target})
    _log_dataset_input(
        mlflow.data.from_pandas(
            frame, source=_dataset_source(dataset.source), name=dataset.name, targets=dataset.target_name
        )
    )
    mlflow.log_dict(profile_features(x_train), "profile/feature_profile.json")


def _log_dataset_input(dataset: mlflow.data.dataset.Dataset, attempts: int = 3) -> None:
    """Link the dataset to the run. MLflow's server looks a dataset up by digest and inserts it if it
    is new, without a lock: two trainers logging the same data at the same moment make one of them hit
    the unique key. Tried again, it finds the row the other inserted and only links it."""
    for attempt in range(1, attempts + 1):
        try:
            mlflow.log_input(dataset, context="training")
            return
        except MlflowException as exc:
            message = str(exc)
            duplicate = "duplicate key" in message or "UNIQUE constraint failed" in message
            if not duplicate or attempt == attempts:
                raise
            logger.info(
                "dataset inserted concurrently by another run; linking it", extra={"attempt": attempt}
            )


def _dataset_source(spec: str) -> str | CodeDatasetSource:
    """Paths and s3:// URIs are sources MLflow understands; a bundled set is recorded as code."""
    if spec.startswith("sklearn:"):
        return CodeDatasetSource(tags={"mlstack.dataset": spec})
    return spec


def _choose_params(
    prepared: Prepared, x_train: pd.DataFrame, y_train: pd.Series, progress: ProgressCallback | None
) -> dict[str, Any]:
    """The only candidate, or the sweep's best on a validation split carved out of the training rows."""
    if len(prepared.candidates) == 1:
        return prepared.candidates[0]
    settings, primary = prepared.settings, prepared.primary
    x_fit, x_val, y_fit, y_val = train_test_split(
        x_train,
        y_train,
        test_size=VALIDATION_SHARE,
        random_state=settings.seed,
        stratify=_stratify(prepared.task, y_train),
    )
    best: tuple[float, dict[str, Any]] | None = None
    for index, params in enumerate(prepared.candidates):
        with mlflow.start_run(run_name=f"candidate-{index}", nested=True):
            mlflow.log_params({f"model.{key}": value for key, value in params.items()})
            candidate = build_pipeline(settings.model, prepared.task, x_fit, params, settings.seed)
            candidate.fit(x_fit, y_fit)
            scores = evaluate(candidate, prepared.task, x_val, y_val)
            mlflow.log_metrics({f"val_{name}": value for name, value in scores.items()})
        score = scores[primary.name]
        logger.info("candidate scored", extra={"candidate": index, "params": params, primary.name: score})
        if best is None or primary.improvement(score, best[0]) > 0:
            best = (score, params)
        if progress is not None:
            progress(index + 1, len(prepared.candidates))
    assert best is not None
    mlflow.set_tag("mlstack.sweep.best_validation_" + primary.name, f"{best[0]:.6g}")
    return best[1]


def _register(prepared: Prepared, model_uri: str, run_id: str) -> ModelVersionRef:
    settings = prepared.settings
    registered = mlflow.register_model(
        model_uri,
        settings.model_name,
        tags={
            TAG_FINGERPRINT: prepared.dataset.fingerprint,
            TAG_PRIMARY_METRIC: prepared.primary.name,
            "mlstack.run_id": run_id,
        },
    )
    logger.info("registered", extra={"model": settings.model_name, "version": registered.version})
    return ModelVersionRef.from_entity(registered)


def _gate_lock(settings: TrainerSettings, registry: Registry) -> GateLock:
    """Held around the gate so a trainer finishing at the same time compares against whatever this
    one decides (no lost update between reading the champion and moving the alias)."""
    return GateLock(
        registry.client,
        settings.model_name,
        ttl_s=settings.gate_lock_ttl_seconds,
        timeout_s=settings.gate_lock_timeout_seconds,
    )


def _gate(
    prepared: Prepared,
    registry: Registry,
    version: ModelVersionRef,
    metrics: dict[str, float],
    x_test: pd.DataFrame,
    y_test: pd.Series,
) -> GateDecision:
    settings, primary = prepared.settings, prepared.primary
    champion = registry.version_for_alias(settings.model_name, settings.model_alias)
    champion_score, basis = _champion_score(prepared, registry, champion, x_test, y_test)
    decision = decide(
        primary,
        metrics[primary.name],
        champion_score,
        champion.version if champion else None,
        settings.min_improvement,
        basis,
    )
    client = registry.client
    for key, value in decision.as_tags().items():
        client.set_model_version_tag(settings.model_name, version.version, key, value)
    if decision.promote:
        client.set_registered_model_alias(settings.model_name, settings.model_alias, version.version)
    mlflow.set_tags({"mlstack.gate.decision": decision.as_tags()["mlstack.gate.decision"]})
    logger.info("gate decided", extra={"promote": decision.promote, "reason": decision.reason})
    return decision


def _champion_score(
    prepared: Prepared,
    registry: Registry,
    champion: ModelVersionRef | None,
    x_test: pd.DataFrame,
    y_test: pd.Series,
) -> tuple[float | None, str]:
    """Score the champion on the candidate's own holdout; fall back to its logged metric if it cannot."""
    if champion is None:
        return None, "none"
    metric = prepared.primary.name
    try:
        with tempfile.TemporaryDirectory(prefix="mlstack-champion-") as scratch:
            champion_model: Pipeline = load_sklearn_model(download_model(champion.uri, Path(scratch)))
        return evaluate(champion_model, prepared.task, x_test, y_test)[metric], "same-holdout"
    except Exception as exc:  # a champion trained on other features cannot score this holdout
        logger.warning(
            "champion cannot score this holdout; comparing logged metrics",
            extra={"champion_version": champion.version, "error": str(exc)[:300]},
        )
    if champion.tags.get(TAG_PRIMARY_METRIC, metric) != metric:
        return None, "logged-metric"
    return registry.run_metrics(champion.run_id).get(metric), "logged-metric"


def _delete_version(registry: Registry, version: ModelVersionRef) -> None:
    """Best effort: a run that failed after registering must not leave its version behind."""
    try:
        registry.client.delete_model_version(version.name, version.version)
        logger.warning("deleted version of a failed run", extra={"version": version.version})
    except Exception:
        logger.exception("could not delete version %s of a failed run", version.version)


def summarize(result: TrainResult) -> Iterable[str]:
    """Human-readable lines for the end of a CLI run."""
    metrics = ", ".join(f"{name}={value:.4f}" for name, value in sorted(result.metrics.items()))
    yield f"run        {result.run_id}"
    yield f"metrics    {metrics}"
    yield f"model      {result.model_name} version {result.version}"
    moved = "moved to" if result.alias_moved else "stays where it was, not on"
    yield f"alias      @{result.alias} {moved} version {result.version}"
    yield f"gate       {result.decision.reason}"
    yield f"dataset    sha256 {result.fingerprint}"
    if result.run_url:
        yield f"MLflow UI  {result.run_url}"
