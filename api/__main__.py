"""`python -m api`: bind at once, then serve with uvicorn (uvloop + httptools), N workers."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from api.settings import ApiSettings
from mlstack.logs import configure_logging


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m api", description="Serve models:/NAME@ALIAS over HTTP.")
    parser.add_argument("--host", help="bind address [MLSTACK_HOST]")
    parser.add_argument("--port", type=int, help="bind port [MLSTACK_PORT]")
    parser.add_argument("--workers", type=int, help="worker processes [MLSTACK_WORKERS]")
    parser.add_argument("--log-level", help="log level [MLSTACK_LOG_LEVEL]")
    return parser.parse_args(argv)


def _prepare_multiprocess_metrics(workers: int) -> None:
    """With several workers, metrics go through files every worker writes: a fresh dir per start."""
    if workers <= 1:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return
    directory = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(tempfile.gettempdir()) / "mlstack-metrics"
    )
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    # Flags become environment variables so every worker process reads the same settings.
    for flag, env in (("host", "HOST"), ("port", "PORT"), ("workers", "WORKERS"), ("log_level", "LOG_LEVEL")):
        value = getattr(args, flag)
        if value is not None:
            os.environ[f"MLSTACK_{env}"] = str(value)
    try:
        settings = ApiSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"MLSTACK_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        sys.stderr.write(f"error: invalid settings: {problems}\n")
        return 2
    configure_logging(settings.log_level)
    os.environ["MLSTACK_WORKERS"] = str(settings.workers)
    _prepare_multiprocess_metrics(settings.workers)
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
