"""Make sure MLflow's artifact bucket exists before the tracking server starts.

`python -m mlstack.s3_bucket BUCKET` waits for the S3 endpoint (MLFLOW_S3_ENDPOINT_URL, with the
AWS_* credentials MLflow itself uses), then creates the bucket unless it is there. The chart runs it
in every MLflow pod's init container when the bucket lives in the bundled MinIO. A post-install hook
cannot do it on a fresh install: `helm install --wait` runs post-install hooks only once the API is
Ready, the API is Ready only once a model is registered, and the bootstrap trainer cannot save that
model until the bucket exists.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from mlstack.logs import configure_logging
from mlstack.retry import DependencyUnavailable, retry_call

logger = logging.getLogger("mlstack.s3_bucket")

_MISSING = {"404", "NoSuchBucket", "NotFound"}
_ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


class EndpointNotReady(RuntimeError):
    """The endpoint answered, but with a server error (MinIO says 503 while it initialises)."""


def ensure_bucket(client: Any, bucket: str) -> bool:
    """Create `bucket` unless it exists; True if this call created it. Server errors raise
    EndpointNotReady (worth waiting for); any other refusal (credentials, a name S3 rejects) raises."""
    from botocore.exceptions import ClientError

    def status(exc: ClientError) -> int:
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)

    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if status(exc) >= 500:
            raise EndpointNotReady(str(exc)) from exc
        if exc.response.get("Error", {}).get("Code") not in _MISSING:
            raise
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if status(exc) >= 500:
            raise EndpointNotReady(str(exc)) from exc
        if exc.response.get("Error", {}).get("Code") in _ALREADY_THERE:
            return False  # another replica's init container was quicker
        raise
    return True


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlstack.s3_bucket", description=__doc__.splitlines()[0])
    parser.add_argument("bucket", help="bucket MLflow stores artifacts in")
    parser.add_argument("--wait-seconds", type=float, default=120.0, help="how long to wait for the endpoint")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    configure_logging(args.log_level)
    endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL")
    if not endpoint:
        sys.stderr.write("error: MLFLOW_S3_ENDPOINT_URL is not set; it names the S3 endpoint of the bucket\n")
        return 2

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as EndpointUnreachable

    # One attempt per call, short timeouts: the waiting is retry_call's, and it logs every attempt.
    config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=15)
    client = boto3.client("s3", endpoint_url=endpoint, config=config)
    try:
        created = retry_call(
            lambda: ensure_bucket(client, args.bucket),
            what=f"S3 endpoint {endpoint}",
            timeout_s=args.wait_seconds,
            retry_on=(EndpointUnreachable, HTTPClientError, EndpointNotReady),
        )
    except DependencyUnavailable as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except (ClientError, BotoCoreError) as exc:
        sys.stderr.write(f"error: bucket {args.bucket!r} at {endpoint} cannot be checked or created: {exc}\n")
        return 1
    logger.info("bucket %s", "created" if created else "already there", extra={"bucket": args.bucket})
    return 0


if __name__ == "__main__":
    sys.exit(main())
