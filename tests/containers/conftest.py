"""The containers tier: the real images, built offline from the local base image, running the stack
on a Docker network with the chart's own commands and environment (see stack.py).

Skips, saying why, only where no Docker engine can run (scripts/install-docker.sh exits 3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers.stack import Render, docker
from tests.support.pins import CACHE, REPO, versions

CHART = REPO / "charts" / "mlstack"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "containers: needs a Docker engine (scripts/install-docker.sh)")


def _script(name: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "scripts" / name)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="session")
def images(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build (or find cached) the base, the three mlstack images and the Postgres/MinIO stand-ins."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    engine = _script("install-docker.sh")
    if engine.returncode == 3:
        pytest.skip(f"no Docker engine can run here: {engine.stderr.strip()[-500:]}")
    assert engine.returncode == 0, engine.stderr
    base = versions()["BASE_IMAGE_TAG"]
    for script, env in (("build-base-image.sh", None), ("build-images.sh", {"BASE_IMAGE": base})):
        t0 = time.monotonic()
        done = _script(script, env)
        assert done.returncode == 0, f"scripts/{script} failed:\n{done.stderr[-4000:]}"
        if reporter is not None:
            reporter.write_line(f"[containers] {script} took {time.monotonic() - t0:.0f}s")
    minio_context = tmp_path_factory.mktemp("minio-image")
    for binary in ("minio", "mc"):
        source = CACHE / "bin" / binary
        assert source.exists(), f"{source} missing: run scripts/install-services.sh"
        shutil.copy2(source.resolve(), minio_context / binary)
    shutil.copy2(Path(__file__).parent / "images" / "minio" / "Dockerfile", minio_context / "Dockerfile")
    for tag, context in (
        ("mlstack-test/postgres:15", Path(__file__).parent / "images" / "postgres"),
        ("mlstack-test/minio:latest", minio_context),
    ):
        docker("build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(context), timeout=900)
    return {"base": base}


@pytest.fixture(scope="session")
def rendered(images: dict[str, str]) -> Render:
    """The default profile with MLflow basic auth on, rendered by the pinned helm as the release `mlstack`."""
    helm = shutil.which("helm") or str(CACHE / "bin" / "helm")
    text = subprocess.run(
        [
            helm,
            "template",
            "mlstack",
            str(CHART),
            "-n",
            "mlstack",
            "--set",
            "api.refreshSeconds=1",
            "--set",
            "mlflow.auth.enabled=true",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Render.from_text(text)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    tmp_path.chmod(0o755)
    yield tmp_path
