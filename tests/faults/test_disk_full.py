"""The API's writable path (model cache and metrics files) full: predictions keep coming from the model
already loaded, the failed load of a new version is reported (readiness detail, reload metric), and
once space is back the new version is served."""

from __future__ import annotations

import contextlib
import errno
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient

from tests.support.api import ApiProcess
from tests.support.load import SteadyLoad
from tests.support.services import MlflowServer
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 32 MiB filesystem (tmpfs) that the test can fill; needs root and mount permission."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"needs root and permission to mount a tmpfs to fill a filesystem: {mounted.stderr.strip()}"
        )
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(directory: Path) -> Path:
    """Write zeros until the filesystem says ENOSPC; the filler file."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(chunk)
            handle.flush()
    for size in (65536, 4096, 1):  # nothing fits any more, not even a page
        with pytest.raises(OSError) as full:
            (directory / f"probe-{size}").write_bytes(b"\0" * size)
        assert full.value.errno == errno.ENOSPC
    return filler


def test_full_disk_keeps_serving_and_reports_it(
    embedded: MlflowServer,
    model_name: str,
    small_disk: Path,  # before start_api: unmounted only after the API has stopped
    start_api: Callable[..., ApiProcess],
    tmp_path: Path,
) -> None:
    first = train_model(embedded.uri, tmp_path, model_name=model_name)["version"]
    second = train_model(embedded.uri, tmp_path, model_name=model_name, param="C=0.5")["version"]
    client = MlflowClient(embedded.uri)
    client.set_registered_model_alias(model_name, "production", first)
    api = start_api(
        embedded.uri,
        model_name,
        workers=2,
        env={
            "MLSTACK_MODEL_CACHE_DIR": str(small_disk / "models"),
            "PROMETHEUS_MULTIPROC_DIR": str(small_disk / "metrics"),
            "MLSTACK_MAX_BACKOFF_SECONDS": "2",
        },
    )
    assert api.wait_ready()["version"] == first

    with SteadyLoad(api.url, clients=2) as load:
        filler = _fill(small_disk)
        client.set_registered_model_alias(model_name, "production", second)
        deadline = time.monotonic() + 60
        while api.metric("mlstack_model_reloads_total", result="failure") < 1:
            assert time.monotonic() < deadline, "the failed load was never counted"
            time.sleep(0.3)
        readiness = requests.get(f"{api.url}/readyz", timeout=5)
        assert readiness.status_code == 200 and readiness.json()["version"] == first
        assert "No space left on device" in readiness.json()["last_load_failure"]
        # A route never seen before needs a new metrics entry on the full disk: still answered.
        assert requests.get(f"{api.url}/no-such-route", timeout=5).status_code == 404
        time.sleep(2.0)
        assert load.failures() == []

        filler.unlink()
        load.wait_for_version(second, timeout=60)
        time.sleep(1.0)

    assert load.failures() == []
    assert {o.version for o in load.snapshot()} == {first, second}
    assert api.worker_pids() and api.process.running
