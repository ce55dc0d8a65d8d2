"""`python -m training`: flags mirror the MLSTACK_* variables; exit 2 on bad input, 1 on a failed run."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mlstack.logs import configure_logging
from mlstack.registry import Registry, RegistryUnavailable
from mlstack.retry import DependencyUnavailable
from training.errors import InputError
from training.progress import sweep_progress
from training.run import TrainResult, prepare, summarize, train
from training.settings import TrainerSettings, load_settings

logger = logging.getLogger("training")

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    fields = TrainerSettings.model_fields
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a model, log it to MLflow, register it and promote it if it beats Production.",
        argument_default=argparse.SUPPRESS,
    )

    def add(flag: str, field_name: str, **kwargs: Any) -> None:
        env = f"MLSTACK_{field_name.upper()}"
        parser.add_argument(flag, dest=field_name, help=f"{fields[field_name].description} [{env}]", **kwargs)

    parser.add_argument("--config", type=Path, help="YAML file with any of these settings [MLSTACK_CONFIG]")
    add("--data", "data", metavar="SPEC")
    add("--target", "target", metavar="COLUMN")
    add("--task", "task", choices=["auto", "classification", "regression"])
    add("--model", "model", metavar="FAMILY")
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        metavar="KEY=VALUE",
        help="estimator parameter, repeatable; VALUE is read as YAML (0.5, true, null, text) [MLSTACK_PARAMS]",
    )
    parser.add_argument(
        "--grid",
        dest="grid",
        action="append",
        metavar="KEY=V1,V2",
        help="sweep values for one parameter, repeatable [MLSTACK_GRID]",
    )
    add("--model-name", "model_name", metavar="NAME")
    add("--alias", "model_alias", metavar="ALIAS")
    add("--seed", "seed", type=int)
    add("--test-size", "test_size", type=float)
    add("--experiment", "experiment")
    add("--min-improvement", "min_improvement", type=float)
    add("--data-dir", "data_dir", type=Path)
    add("--mlflow-wait-seconds", "mlflow_wait_seconds", type=float)
    add("--gate-lock-timeout-seconds", "gate_lock_timeout_seconds", type=float)
    add("--gate-lock-ttl-seconds", "gate_lock_ttl_seconds", type=float)
    parser.add_argument("--tracking-uri", help="MLflow tracking URI [MLFLOW_TRACKING_URI]")
    parser.add_argument("--summary-json", type=Path, help="also write the result as JSON to this file")
    parser.add_argument("--log-level", default=os.environ.get("MLSTACK_LOG_LEVEL", "INFO"))
    return parser


def _key_value(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InputError(f"{flag} {text!r}: expected KEY=VALUE")
    return key.strip(), value


def _cli_values(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        key: value
        for key, value in vars(args).items()
        if key not in {"config", "tracking_uri", "summary_json", "log_level"}
    }
    if "params" in values:
        pairs = (_key_value(item, "--param") for item in values["params"])
        values["params"] = {key: yaml.safe_load(value) for key, value in pairs}
    if "grid" in values:
        pairs = (_key_value(item, "--grid") for item in values["grid"])
        values["grid"] = {key: [yaml.safe_load(v) for v in value.split(",")] for key, value in pairs}
    return values


def _config_path(args: argparse.Namespace) -> Path | None:
    given = getattr(args, "config", None) or os.environ.get("MLSTACK_CONFIG")
    return Path(given) if given else None


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "settings"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def _write_summary(path: Path, result: TrainResult) -> None:
    payload = asdict(result)
    payload["run_url"] = result.run_url
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    # MLflow hints on every schema with an integer column (labels, counts) that ints cannot hold NaN;
    # the signature records the training dtypes on purpose, so the hint is noise in every run's log.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=UserWarning)
    if getattr(args, "tracking_uri", None):
        os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri
    try:
        settings = load_settings(_cli_values(args), _config_path(args))
        prepared = prepare(settings)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except ValidationError as exc:
        sys.stderr.write(f"error: invalid settings: {_validation_message(exc)}\n")
        return EXIT_BAD_INPUT

    registry = Registry()
    try:
        registry.wait_until_reachable(settings.mlflow_wait_seconds)
        with sweep_progress(len(prepared.candidates)) as progress:
            result = train(prepared, registry, progress)
    except DependencyUnavailable as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    except RegistryUnavailable as exc:
        logger.exception("the registry failed during the run")
        sys.stderr.write(f"error: the MLflow registry failed during the run (marked FAILED): {exc}\n")
        return EXIT_FAILED
    except Exception as exc:
        logger.exception("training failed")
        sys.stderr.write(f"error: training failed (run marked FAILED, nothing registered): {exc}\n")
        return EXIT_FAILED

    sys.stdout.write("\n".join(summarize(result)) + "\n")
    if getattr(args, "summary_json", None):
        _write_summary(args.summary_json, result)
    return 0
