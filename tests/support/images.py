"""The images the stack runs from, built offline: the local base, the three mlstack images, and the
stand-ins for the chart's upstream Postgres and MinIO images. Shared by the containers and node tiers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.pins import CACHE, REPO, versions

STAND_IN_DIR = REPO / "tests" / "containers" / "images"
# Upstream image the chart pins -> the stand-in built here.
POSTGRES_STAND_IN = "mlstack-test/postgres:15"
MINIO_STAND_IN = "mlstack-test/minio:latest"


def _script(name: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "scripts" / name)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _docker(*args: str, timeout: float = 900) -> None:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")


def build_stack_images(workdir: Path, say: Callable[[str], None]) -> str:
    """Build (or find cached) every image of the stack in Docker; skip where no Docker engine can run.

    Returns the base image tag."""
    engine = _script("install-docker.sh")
    if engine.returncode == 3:
        pytest.skip(f"no Docker engine can run here: {engine.stderr.strip()[-500:]}")
    assert engine.returncode == 0, engine.stderr
    base = versions()["BASE_IMAGE_TAG"]
    for script, env in (("build-base-image.sh", None), ("build-images.sh", {"BASE_IMAGE": base})):
        t0 = time.monotonic()
        done = _script(script, env)
        assert done.returncode == 0, f"scripts/{script} failed:\n{done.stderr[-4000:]}"
        say(f"{script} took {time.monotonic() - t0:.0f}s")
    minio_context = workdir / "minio-image"
    minio_context.mkdir(parents=True, exist_ok=True)
    for binary in ("minio", "mc"):
        source = CACHE / "bin" / binary
        assert source.exists(), f"{source} missing: run scripts/install-services.sh"
        shutil.copy2(source.resolve(), minio_context / binary)
    shutil.copy2(STAND_IN_DIR / "minio" / "Dockerfile", minio_context / "Dockerfile")
    for tag, context in ((POSTGRES_STAND_IN, STAND_IN_DIR / "postgres"), (MINIO_STAND_IN, minio_context)):
        _docker("build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(context))
    return base
