"""The pinned tool versions (scripts/versions.env) and the tool cache the install scripts fill."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MLSTACK_CACHE", Path.home() / ".cache" / "mlstack"))


def versions() -> dict[str, str]:
    """scripts/versions.env as a dict (KEY=value lines)."""
    lines = (REPO / "scripts" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def tool(name: str) -> str:
    """Path of a tool from PATH or the cache; skips the test if scripts/install-tools.sh has not run."""
    path = shutil.which(name) or str(CACHE / "bin" / name)
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed: run scripts/install-tools.sh")
    return path


def helm_home_env(state: Path) -> dict[str, str]:
    """HELM_*_HOME beside a test cluster's state dir: helm's caches and config stay out of the
    user's home, one set per test session."""
    return {
        var: str(state.parent / f"{state.name}-{sub}")
        for var, sub in (
            ("HELM_CACHE_HOME", "helm-cache"),
            ("HELM_CONFIG_HOME", "helm-config"),
            ("HELM_DATA_HOME", "helm-data"),
        )
    }
