"""Where a run came from: the code's git commit and the versions of the packages that trained it."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("scikit-learn", "pandas", "numpy", "mlflow-skinny")


def git_commit() -> str | None:
    """MLSTACK_GIT_COMMIT (baked into images at build time), else the checkout's HEAD, else None."""
    baked = os.environ.get("MLSTACK_GIT_COMMIT")
    if baked:
        return baked
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def provenance_tags() -> dict[str, str]:
    """Tags for the run: git commit, Python and package versions."""
    tags = {"mlstack.python_version": platform.python_version()}
    for package in PACKAGES:
        try:
            tags[f"mlstack.version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    commit = git_commit()
    if commit:
        tags["mlstack.git_commit"] = commit
    return tags
