"""The plain trainer Job under k8s-jobs/: valid Kubernetes (strict schemas) and kube-score clean."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MLSTACK_CACHE", Path.home() / ".cache" / "mlstack"))
JOB = REPO / "k8s-jobs" / "train-job.yaml"


def _versions() -> dict[str, str]:
    lines = (REPO / "scripts" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def _tool(name: str) -> str:
    path = shutil.which(name) or str(CACHE / "bin" / name)
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed: run scripts/install-tools.sh")
    return path


def test_train_job_is_valid_under_strict_schemas():
    schemas = CACHE / "kube-schemas" / f"{_versions()['KUBERNETES_VERSION']}-standalone-strict"
    result = subprocess.run(
        [
            _tool("kubeconform"),
            "-strict",
            "-summary",
            "-schema-location",
            f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            str(JOB),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_train_job_has_no_kube_score_findings():
    result = subprocess.run(
        [_tool("kube-score"), "score", "--output-format", "ci", "--exit-one-on-warning", str(JOB)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = [line for line in result.stdout.splitlines() if not line.startswith(("[OK]", "[SKIPPED]"))]
    assert result.returncode == 0 and not findings, "\n".join(findings)
