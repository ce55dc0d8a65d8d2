"""PostgreSQL, MinIO and `mlflow server` as real processes on free loopback ports under a temp dir."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.processes import ManagedProcess, free_port, http_ok, tcp_open

MINIO_USER = "mlstack-test"
MINIO_PASSWORD = "mlstack-test-secret"  # a throwaway test server on loopback


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not on PATH: run scripts/install-services.sh (make test does)")
    # The real file, not the cache's symlink: the postgres user cannot traverse root's home.
    return os.path.realpath(path)


def _service_user() -> str | None:
    """PostgreSQL refuses to run as root; as root, run it as the Debian package's `postgres` user."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam("postgres")
    return "postgres"


class PostgresServer:
    """A throwaway PostgreSQL cluster: initdb into a temp dir, trust auth on loopback only."""

    def __init__(self) -> None:
        self.user = _service_user()
        # Not under pytest's private tmp: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="mlstack-pg-"))
        self.root.chmod(0o755)
        self.data_dir = self.root / "data"
        self.port = free_port()
        self.process = ManagedProcess(
            "postgres",
            [
                require_tool("postgres"),
                "-D", str(self.data_dir),
                "-h", "127.0.0.1",
                "-p", str(self.port),
                "-k", str(self.root),
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
            ],
            self.root,
            ready=lambda: tcp_open("127.0.0.1", self.port) and self._accepts(),
            user=self.user,
        )  # fmt: skip

    def _accepts(self) -> bool:
        try:
            psycopg.connect(self.dsn("postgres"), connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    def start(self) -> None:
        if not self.data_dir.exists():
            self.data_dir.mkdir()
            if self.user:
                shutil.chown(self.data_dir, self.user, self.user)
                shutil.chown(self.root, self.user, self.user)
            command = [
                require_tool("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "mlstack",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
            if self.user:
                command = ["runuser", "-u", self.user, "--", *command]
            completed = subprocess.run(command, capture_output=True, text=True)
            if completed.returncode != 0:
                raise RuntimeError(f"initdb failed ({completed.returncode}): {completed.stderr.strip()}")
        self.process.start()

    def dsn(self, database: str) -> str:
        return f"postgresql://mlstack@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        self.process.stop()

    def crash(self) -> None:
        """SIGKILL the postmaster alone, as the kernel's OOM killer would; its backends then exit by
        themselves and the next `start()` runs crash recovery. (Killing the whole process group
        would also kill `runuser`, leaving an unreaped postmaster whose pid blocks the restart.)"""
        pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class MinioServer:
    """A single-drive MinIO server with fixed test credentials."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        (root / "drive").mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "minio",
            [
                require_tool("minio"), "server", str(root / "drive"),
                "--address", f"127.0.0.1:{self.port}",
                "--console-address", f"127.0.0.1:{free_port()}",
                "--quiet",
            ],
            root,
            ready=lambda: http_ok(f"{self.endpoint}/minio/health/ready"),
            env={"MINIO_ROOT_USER": MINIO_USER, "MINIO_ROOT_PASSWORD": MINIO_PASSWORD, "MINIO_BROWSER": "off"},
        )  # fmt: skip

    @property
    def client_env(self) -> dict[str, str]:
        """What an S3 client (MLflow server, boto3) needs to reach this server."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": MINIO_USER,
            "AWS_SECRET_ACCESS_KEY": MINIO_PASSWORD,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def s3(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=MINIO_USER,
            aws_secret_access_key=MINIO_PASSWORD,
            region_name="us-east-1",
        )

    def create_bucket(self, name: str) -> None:
        self.s3().create_bucket(Bucket=name)

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


@dataclass
class MlflowServer:
    """`mlflow server --serve-artifacts`: clients log artifacts through it and never hold S3 keys."""

    root: Path
    backend_store_uri: str
    artifacts_destination: str
    env: dict[str, str]
    topology: str

    def __post_init__(self) -> None:
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        mlflow_bin = Path(sys.executable).with_name("mlflow")
        self.process = ManagedProcess(
            f"mlflow-{self.topology}",
            [
                str(mlflow_bin), "server",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--backend-store-uri", self.backend_store_uri,
                "--serve-artifacts",
                "--artifacts-destination", self.artifacts_destination,
                "--workers", "1",
            ],
            self.root,
            ready=lambda: http_ok(f"{self.uri}/health"),
            env={**self.env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
            ready_timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()


ARTIFACT_BUCKET = "mlflow-artifacts"


def embedded_mlflow(root: Path) -> MlflowServer:
    """The embedded topology (what `make demo` runs): SQLite backend + a local artifact folder."""
    (root / "artifacts").mkdir(parents=True, exist_ok=True)
    return MlflowServer(
        root=root,
        backend_store_uri=f"sqlite:///{root / 'mlflow.db'}",
        artifacts_destination=str(root / "artifacts"),
        env={},
        topology="embedded",
    )


def production_mlflow(root: Path, postgres: PostgresServer, minio: MinioServer) -> MlflowServer:
    """The production topology (what the chart runs): PostgreSQL backend store, MinIO artifacts."""
    return MlflowServer(
        root=root,
        backend_store_uri=postgres.create_database("mlflow"),
        artifacts_destination=f"s3://{ARTIFACT_BUCKET}",
        env=minio.client_env,
        topology="production",
    )
