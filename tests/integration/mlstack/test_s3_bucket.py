"""`python -m mlstack.s3_bucket` against a real MinIO: creates the bucket once, is a no-op after, waits
for an endpoint that is not up yet, and refuses wrong credentials with a sentence instead of waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests.support.processes import free_port
from tests.support.services import MinioServer


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlstack.s3_bucket", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _buckets(minio: MinioServer) -> set[str]:
    return {bucket["Name"] for bucket in minio.s3().list_buckets()["Buckets"]}


def test_creates_the_bucket_once_then_finds_it(minio: MinioServer) -> None:
    bucket = f"artifacts-{uuid.uuid4().hex[:8]}"
    first = _run(minio.client_env, bucket, "--wait-seconds", "10")
    assert first.returncode == 0, first.stderr
    assert "bucket created" in first.stderr
    assert bucket in _buckets(minio)

    again = _run(minio.client_env, bucket, "--wait-seconds", "10")
    assert again.returncode == 0, again.stderr
    assert "bucket already there" in again.stderr


def test_waits_for_an_endpoint_that_comes_up_later(tmp_path: Path) -> None:
    late = MinioServer(tmp_path / "late-minio")
    starter = threading.Timer(3.0, late.start)
    starter.start()
    try:
        started = time.monotonic()
        done = _run(late.client_env, "late-bucket", "--wait-seconds", "60")
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started >= 3.0
        assert "waiting for S3 endpoint" in done.stderr
        assert "late-bucket" in _buckets(late)
    finally:
        starter.join()
        late.stop()


def test_an_endpoint_that_never_answers_ends_with_a_sentence() -> None:
    env = {
        "MLFLOW_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "nobody",
        "AWS_SECRET_ACCESS_KEY": "nothing-here",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = _run(env, "artifacts", "--wait-seconds", "2")
    assert done.returncode == 1
    assert "error: S3 endpoint http://127.0.0.1:" in done.stderr and "is unreachable after" in done.stderr


def test_wrong_credentials_fail_at_once_naming_the_bucket(minio: MinioServer) -> None:
    env = {**minio.client_env, "AWS_SECRET_ACCESS_KEY": "not-the-password"}
    started = time.monotonic()
    done = _run(env, "artifacts", "--wait-seconds", "60")
    assert done.returncode == 1
    assert time.monotonic() - started < 30, "a refusal is final: it must not wait out the budget"
    assert "error: bucket 'artifacts' at http://127.0.0.1:" in done.stderr


def test_without_an_endpoint_it_says_which_variable_is_missing() -> None:
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_S3_ENDPOINT_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "mlstack.s3_bucket", "artifacts"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "MLFLOW_S3_ENDPOINT_URL is not set" in done.stderr
