"""The cluster tier: a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
built from the pinned Kubernetes release, with nodes simulated by kwok.

What is real: every API object, admission, RBAC, the Deployment/StatefulSet/Job/CronJob controllers,
the scheduler's placement, helm's hook sequencing and waits. What is simulated (kwok stages, see
scripts/cluster-up.sh): containers never run; a scheduled pod is marked Running and Ready, pods owned by
a Job and helm test pods are marked Succeeded with exit code 0, and PVCs get fake volumes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.pins import CACHE, REPO, helm_home_env

# MLSTACK_TEST_CHART points the tier at another copy of the chart (e.g. a work in progress).
CHART = Path(os.environ.get("MLSTACK_TEST_CHART", REPO / "charts" / "mlstack"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: needs the local control plane (scripts/cluster-up.sh)")


def _install_kube(say: Callable[[str], None]) -> Path:
    """Build (or find cached) the cluster binaries; skip the tier, naming the failure, if they cannot be."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(REPO / "scripts" / "install-kube.sh")], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(
            "cluster binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok) "
            f"could not be built by scripts/install-kube.sh:\n{proc.stderr[-2000:]}"
        )
    say(f"install-kube.sh took {time.monotonic() - t0:.1f}s")
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def cluster_env(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[dict[str, str]]:
    """Environment (KUBECONFIG, PATH) for kubectl/helm against a cluster started for this session."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"[cluster] {line}")

    if not (CHART / "Chart.yaml").is_file():
        pytest.skip(f"no chart at {CHART} yet")
    if shutil.which("helm") is None and not (CACHE / "bin" / "helm").exists():
        pytest.skip("helm is not installed (scripts/install-tools.sh installs the pinned HELM_VERSION)")
    kube_bin = _install_kube(say)
    state = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ)
    env["MLSTACK_CLUSTER_DIR"] = str(state)
    env["PATH"] = f"{kube_bin}:{CACHE / 'bin'}:{env['PATH']}"
    t0 = time.monotonic()
    up = subprocess.run(
        [str(REPO / "scripts" / "cluster-up.sh")], env=env, capture_output=True, text=True, check=False
    )
    if up.returncode != 0:
        subprocess.run([str(REPO / "scripts" / "cluster-down.sh")], env=env, check=False)
        pytest.fail(f"scripts/cluster-up.sh failed:\n{up.stderr[-4000:]}")
    say(f"cluster-up.sh took {time.monotonic() - t0:.1f}s")
    env["KUBECONFIG"] = up.stdout.strip().splitlines()[-1]
    env.update(helm_home_env(state))
    try:
        yield env
    finally:
        logs = state / "logs"
        if logs.is_dir():
            # Keep the component logs next to pytest's temp dirs for a failed run's post-mortem.
            shutil.copytree(logs, state.parent / f"{state.name}-logs", dirs_exist_ok=True)
        subprocess.run([str(REPO / "scripts" / "cluster-down.sh")], env=env, check=False)
