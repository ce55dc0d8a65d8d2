"""Two trainer Jobs reaching the gate at once: the registry's gate lock serialises them, so exactly one
promotes, the other compares against it (no lost update), both versions exist and the tags say why."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.faults.conftest import ProductionStack
from tests.support.trainer import REPO_ROOT

pytestmark = pytest.mark.integration

DECISION = "mlstack.gate.decision"


def _trainer(uri: str, model_name: str, home: Path, index: int) -> subprocess.Popen:
    # Same data, family and seed: equal metrics, so whoever gates second sees a tie and must not promote.
    # Output goes to files: a pipe nobody reads while we poll would fill and block the trainer.
    return subprocess.Popen(
        [sys.executable, "-m", "training", "--model-name", model_name, "--gate-lock-timeout-seconds", "300"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "MLFLOW_TRACKING_URI": uri,
             "MLSTACK_LOG_LEVEL": "INFO", "HOME": str(home)},
        stdout=(home / f"trainer-{index}.out").open("w"),
        stderr=(home / f"trainer-{index}.err").open("w"),
    )  # fmt: skip


def test_two_trainers_finishing_at_once(production: ProductionStack, model_name: str, tmp_path: Path) -> None:
    client = MlflowClient(production.mlflow.uri)
    # Hold the gate ourselves so both trainers are certain to arrive while it is taken, then let go:
    # they race for it at the same instant.
    client.create_registered_model(f"{model_name}.gate-lock", tags={"mlstack.lock.owner": "the test"})
    trainers = [_trainer(production.mlflow.uri, model_name, tmp_path, index) for index in range(2)]

    def stderr() -> list[str]:
        return [(tmp_path / f"trainer-{index}.err").read_text()[-3000:] for index in range(2)]

    deadline = time.monotonic() + 240
    while len(client.search_model_versions(f"name='{model_name}'")) < 2:
        assert all(t.poll() is None for t in trainers), stderr()
        assert time.monotonic() < deadline, "the trainers never registered their versions"
        time.sleep(0.2)
    time.sleep(2.0)  # both wait at the gate: registered, undecided, alias untouched
    waiting = client.search_model_versions(f"name='{model_name}'")
    assert [v.tags.get(DECISION) for v in waiting] == [None, None]
    assert all(not v.aliases for v in waiting)
    client.delete_registered_model(f"{model_name}.gate-lock")

    for trainer in trainers:
        trainer.wait(timeout=240)
    assert [t.returncode for t in trainers] == [0, 0], stderr()
    assert all("waiting for the gate lock" in err for err in stderr())

    versions = {v.version: v for v in client.search_model_versions(f"name='{model_name}'")}
    assert len(versions) == 2
    champion = client.get_model_version_by_alias(model_name, "production").version
    (other,) = set(versions) - {champion}
    promoted, rejected = versions[champion].tags, versions[other].tags
    assert promoted[DECISION] == "promoted"
    assert promoted["mlstack.gate.reason"] == "no version is behind the alias yet"
    assert rejected[DECISION] == "rejected"
    assert rejected["mlstack.gate.champion_version"] == champion  # it saw the winner, not "no champion"
    assert rejected["mlstack.gate.basis"] == "same-holdout"
    assert client.search_registered_models(f"name = '{model_name}.gate-lock'") == []
