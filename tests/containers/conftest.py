"""The containers tier: the real images, built offline from the local base image, running the stack
on a Docker network with the chart's own commands and environment (see stack.py).

Skips, saying why, only where no Docker engine can run (scripts/install-docker.sh exits 3)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers.stack import Render
from tests.support.images import build_stack_images
from tests.support.pins import CACHE, REPO

CHART = REPO / "charts" / "mlstack"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "containers: needs a Docker engine (scripts/install-docker.sh)")


@pytest.fixture(scope="session")
def images(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build (or find cached) the base, the three mlstack images and the Postgres/MinIO stand-ins."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"[containers] {line}")

    return {"base": build_stack_images(tmp_path_factory.mktemp("images"), say)}


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
