"""The kind tier: scripts/e2e-kind.sh (the README walkthrough end to end) where Docker can run the
privileged containers kind nodes are; elsewhere, the check that says so instead of failing obscurely."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _privileged_refusal() -> str | None:
    """None if Docker runs a privileged container here, else the engine's error."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    images = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True
    )
    if images.returncode != 0:
        return f"the Docker daemon does not answer: {images.stderr.strip()}"
    local = [i for i in images.stdout.split() if "<none>" not in i]
    if not local:
        return "no local image to probe with (build one: make base-image)"
    probe = subprocess.run(
        ["docker", "run", "--rm", "--privileged", "--user", "0", "--entrypoint", "/bin/true", local[0]],
        capture_output=True,
        text=True,
    )
    return None if probe.returncode == 0 else probe.stderr.strip()


@pytest.fixture(scope="module")
def refusal() -> str | None:
    engine = subprocess.run([str(REPO / "scripts" / "install-docker.sh")], capture_output=True, text=True)
    if engine.returncode != 0:
        pytest.skip(f"no Docker engine can run here: {engine.stderr.strip()[-300:]}")
    return _privileged_refusal()


@pytest.mark.timeout(3600)
def test_kind_walkthrough_end_to_end(refusal: str | None) -> None:
    if refusal is not None:
        pytest.skip(
            f"kind needs Docker to run privileged containers for its nodes; this engine refuses: {refusal}"
        )
    done = subprocess.run([str(REPO / "scripts" / "e2e-kind.sh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-6000:]
    assert "e2e passed" in done.stderr


@pytest.mark.timeout(600)
def test_kind_up_says_why_it_cannot_run(refusal: str | None) -> None:
    if refusal is None:
        pytest.skip("Docker runs privileged containers here: kind-up would create a real cluster")
    env = {**os.environ, "KIND_CLUSTER_NAME": "mlstack-probe"}
    done = subprocess.run([str(REPO / "scripts" / "kind-up.sh")], capture_output=True, text=True, env=env)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "cannot run privileged containers, which kind needs" in done.stderr
    assert "make cluster-up" in done.stderr
