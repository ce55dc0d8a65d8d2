"""Run the trainer the way users do, `python -m training ...`, as a subprocess against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainerRun:
    """Exit code, output and (on success) the parsed `--summary-json` of one trainer process."""

    returncode: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None

    @property
    def version(self) -> str:
        assert self.summary is not None, f"trainer failed ({self.returncode}):\n{self.stderr[-3000:]}"
        return str(self.summary["version"])

    @property
    def promoted(self) -> bool:
        assert self.summary is not None, f"trainer failed ({self.returncode}):\n{self.stderr[-3000:]}"
        return bool(self.summary["alias_moved"])


def run_trainer(
    tracking_uri: str,
    *args: str,
    env: dict[str, str] | None = None,
    summary_dir: Path,
    timeout: float = 300,
) -> TrainerRun:
    """Run `python -m training ARGS` with MLFLOW_TRACKING_URI set; never raises on a non-zero exit."""
    summary_dir.mkdir(parents=True, exist_ok=True)
    summary_path = summary_dir / f"summary-{os.getpid()}-{len(list(summary_dir.iterdir()))}.json"
    process_env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PYTHONPATH": str(REPO_ROOT),
        "MLSTACK_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "training", *args, "--summary-json", str(summary_path)],
        capture_output=True,
        text=True,
        env=process_env,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    summary = json.loads(summary_path.read_text()) if completed.returncode == 0 else None
    return TrainerRun(completed.returncode, completed.stdout, completed.stderr, summary)


def train_model(tracking_uri: str, summary_dir: Path, **overrides: object) -> dict:
    """Train with flags from keyword arguments (`model_name="x"` -> `--model-name x`); the summary dict.

    For tests that need a registered (and, the first time, promoted) model.
    """
    args: list[str] = []
    for key, value in overrides.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    run = run_trainer(tracking_uri, *args, summary_dir=summary_dir)
    assert run.summary is not None, f"trainer failed ({run.returncode}):\n{run.stderr[-3000:]}"
    return run.summary
