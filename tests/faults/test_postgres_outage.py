"""PostgreSQL restarted (fast shutdown) or killed -9 while a trainer logs a sweep: the trainer either
rides it out or fails with a clear message and a FAILED run; a version is never half-registered, and
every earlier run and version is still there afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.faults.conftest import ProductionStack
from tests.support.trainer import REPO_ROOT, train_model

pytestmark = pytest.mark.integration

# Eight nested runs: seconds of logging calls, long enough for the outage to land mid-run.
SWEEP = ["--model", "random_forest", "--grid", "n_estimators=5,10,15,20,25,30,35,40"]


def _start_trainer(
    stack: ProductionStack, model_name: str, experiment: str, tmp_path: Path
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "training", "--model-name", model_name, "--experiment", experiment, *SWEEP],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "MLFLOW_TRACKING_URI": stack.mlflow.uri,
             "MLSTACK_LOG_LEVEL": "WARNING", "HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "trainer.err").open("w"),  # a file: a pipe unread while we poll could fill
    )  # fmt: skip


def _wait_for_running_child_run(client: MlflowClient, experiment: str, timeout: float = 120) -> None:
    """Until the sweep has started logging nested runs: the outage then hits a run in progress."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get_experiment_by_name(experiment)
        if found is not None and len(client.search_runs([found.experiment_id])) >= 2:
            return
        time.sleep(0.1)
    raise AssertionError("the trainer never started its sweep")


@pytest.mark.parametrize("how", ["restart", "kill -9"])
def test_postgres_outage_during_a_training_run(
    production: ProductionStack, model_name: str, tmp_path: Path, how: str
) -> None:
    client = MlflowClient(production.mlflow.uri)
    earlier = train_model(production.mlflow.uri, tmp_path / "s", model_name=model_name)
    experiment = f"outage-{model_name}"
    trainer = _start_trainer(production, model_name, experiment, tmp_path)
    _wait_for_running_child_run(client, experiment)

    if how == "restart":
        production.postgres.process.stop(signal.SIGINT)  # PostgreSQL's fast shutdown
    else:
        production.postgres.crash()  # SIGKILL to the postmaster
    time.sleep(1.0)
    production.postgres.start()  # crash recovery after -9
    trainer.wait(timeout=600)
    stderr = (tmp_path / "trainer.err").read_text()

    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id], run_view_type=3)
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parent) == 1
    versions = client.search_model_versions(f"name='{model_name}'")
    from_this_run = [v for v in versions if v.run_id == parent[0].info.run_id]
    if trainer.returncode == 0:
        assert parent[0].info.status == "FINISHED"
        assert len(from_this_run) == 1, "the run registered more than one version"
    else:
        assert trainer.returncode == 1, stderr
        error_lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert len(error_lines) == 1 and "FAILED" in error_lines[0], stderr[-2000:]
        assert parent[0].info.status == "FAILED"
        assert from_this_run == []
    # Never half-registered: every version that exists went through the gate and says so.
    for version in versions:
        assert version.tags.get("mlstack.gate.decision") in {"promoted", "rejected"}, version
    # Nothing earlier was lost.
    assert client.get_run(earlier["run_id"]).info.status == "FINISHED"
    assert client.get_model_version(model_name, earlier["version"]).run_id == earlier["run_id"]
    assert client.search_registered_models(f"name = '{model_name}.gate-lock'") == []
