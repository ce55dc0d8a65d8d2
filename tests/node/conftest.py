"""The node tier: the control plane of the cluster tier plus one real node on this machine
(scripts/node-up.sh): kubelet and kube-proxy from the same Kubernetes build, containerd and runc,
the bridge CNI plugin, CoreDNS and metrics-server. Containers really run, from the stack's own images imported into the
node's containerd (scripts/node-load.sh); nothing is pulled.

Skips, saying what is missing, only where a node cannot run here: not root, no cgroups, no
br_netfilter, another real node already up (scripts/node-up.sh exits 3), or no Docker engine to
build the images.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.images import MINIO_STAND_IN, POSTGRES_STAND_IN, build_stack_images
from tests.support.pins import CACHE, REPO, helm_home_env
from tests.support.report import reporter_line as terminal_line

SCRIPTS = REPO / "scripts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "node: needs a real node on this machine (scripts/node-up.sh)")


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / script), *args], env=env, capture_output=True, text=True, check=False
    )


def _timed(say: Callable[[str], None], script: str, env: dict[str, str], *args: str) -> str:
    t0 = time.monotonic()
    done = _run(script, env, *args)
    if done.returncode == 3:
        pytest.skip(f"scripts/{script}: a real node cannot run here:\n{done.stderr.strip()[-1500:]}")
    if done.returncode != 0:
        pytest.fail(f"scripts/{script} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    say(f"{script} took {time.monotonic() - t0:.1f}s")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture(scope="session")
def node_env(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[dict[str, str]]:
    """Environment (KUBECONFIG, PATH, helm dirs) for kubectl/helm against a real node started for this session."""
    say = reporter_line(pytestconfig)

    if os.geteuid() != 0:
        pytest.skip("a real node needs root: an address on lo, iptables rules, mounts and cgroups")
    if shutil.which("helm") is None and not (CACHE / "bin" / "helm").exists():
        pytest.skip("helm is not installed (scripts/install-tools.sh installs the pinned HELM_VERSION)")
    env = dict(os.environ)
    kube_bin = _timed(say, "install-kube.sh", env)
    _timed(say, "install-node.sh", env)
    t0 = time.monotonic()
    build_stack_images(tmp_path_factory.mktemp("images"), say)
    say(f"images ready in {time.monotonic() - t0:.1f}s")
    state = tmp_path_factory.mktemp("node")
    env["MLSTACK_CLUSTER_DIR"] = str(state)
    env["PATH"] = f"{kube_bin}:{CACHE / 'bin'}:{env['PATH']}"
    env.update(helm_home_env(state))
    try:
        env["KUBECONFIG"] = _timed(say, "node-up.sh", env)
        _timed(say, "node-load.sh", env)
        _timed(say, "node-load.sh", env, POSTGRES_STAND_IN, MINIO_STAND_IN)
        yield env
    finally:
        logs = state / "logs"
        if logs.is_dir():
            # The component logs stay next to pytest's temp dirs for a failed run's post-mortem.
            shutil.copytree(logs, state.parent / f"{state.name}-logs", dirs_exist_ok=True)
        t0 = time.monotonic()
        down = _run("node-down.sh", env)
        say(f"node-down.sh took {time.monotonic() - t0:.1f}s (exit {down.returncode})")
        if down.returncode != 0:
            say(down.stderr[-2000:])


def reporter_line(config: pytest.Config) -> Callable[[str], None]:
    """A function that prints a "[node] ..." line on the terminal, past pytest's output capture."""
    return terminal_line(config, "node")


def project_version() -> str:
    for line in (REPO / "pyproject.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no version in pyproject.toml")


@pytest.fixture(scope="session")
def chart() -> Path:
    path = Path(os.environ.get("MLSTACK_TEST_CHART", REPO / "charts" / "mlstack"))
    if not (path / "Chart.yaml").is_file():
        pytest.skip(f"no chart at {path}")
    return path
