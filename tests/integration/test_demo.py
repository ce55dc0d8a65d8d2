"""`make demo` end to end, twice on the same state: the second run registers v2 and the tie keeps v1."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import free_port
from tests.support.trainer import REPO_ROOT


def _demo(state: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLSTACK_DEMO_STATE": str(state), "MLSTACK_DEMO_MLFLOW_PORT": str(port)}
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / "demo.sh"), "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=REPO_ROOT,
    )


def test_demo_trains_promotes_and_runs_twice(tmp_path: Path) -> None:
    port = free_port()
    first = _demo(tmp_path, port)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "model      iris-classifier version 1" in first.stdout
    assert "alias      @production moved to version 1" in first.stdout
    assert f"MLflow UI: http://127.0.0.1:{port}" in first.stdout

    second = _demo(tmp_path, port)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "model      iris-classifier version 2" in second.stdout
    assert "alias      @production stays where it was, not on version 2" in second.stdout
    assert (tmp_path / "mlflow.db").is_file()
