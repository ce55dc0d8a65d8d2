"""MLflow basic auth as the chart runs it: db_migrate creates the auth database and the trainer's and
API's users; `mlflow server --app-name basic-auth` on Postgres; the trainer and the API work with their
own credentials, anonymous calls get 401, the API's user cannot move the alias, a rotated password
replaces the old one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.api import ApiProcess
from tests.support.iris import IRIS_ROW
from tests.support.processes import ManagedProcess, free_port, http_ok
from tests.support.services import PostgresServer
from tests.support.trainer import run_trainer

pytestmark = pytest.mark.integration

ADMIN = ("admin", "admin-password-0123456789")
TRAINER = ("trainer", "trainer-password-0123456789")
API_V1, API_V2 = "api-password-first-0123456789", "api-password-rotated-0123456789"


def _migrate(main_uri: str, auth_db: str, api_password: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": main_uri,
        "MLSTACK_AUTH_DATABASE": auth_db,
        "MLSTACK_AUTH_USERS": "trainer,api",
        "MLSTACK_AUTH_PASSWORD_TRAINER": TRAINER[1],
        "MLSTACK_AUTH_PASSWORD_API": api_password,
    }
    return subprocess.run(
        [sys.executable, "-m", "mlstack.db_migrate", "--wait-seconds", "30"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_trainer_and_api_use_their_own_credentials(postgres: PostgresServer, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    main_uri = postgres.create_database(f"mlflow_{suffix}")
    auth_db = f"mlflow_auth_{suffix}"
    first = _migrate(main_uri, auth_db, API_V1)
    assert first.returncode == 0, first.stderr[-3000:]
    rotated = _migrate(main_uri, auth_db, API_V2)  # an upgrade with a rotated Secret
    assert rotated.returncode == 0, rotated.stderr[-3000:]
    for output in (first.stdout + first.stderr, rotated.stdout + rotated.stderr):
        assert TRAINER[1] not in output and API_V1 not in output and API_V2 not in output

    ini = tmp_path / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = {postgres.dsn(auth_db)}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    (tmp_path / "artifacts").mkdir()
    server = ManagedProcess(
        "mlflow-auth",
        [str(Path(sys.executable).with_name("mlflow")), "server", "--app-name", "basic-auth",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", main_uri, "--serve-artifacts",
         "--artifacts-destination", str(tmp_path / "artifacts")],
        tmp_path,
        ready=lambda: http_ok(f"{uri}/health"),
        env={"MLFLOW_AUTH_CONFIG_PATH": str(ini), "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN[0],
             "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1], "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-flask-secret-0123"},
        ready_timeout=120,
    )  # fmt: skip
    server.start()
    try:
        search = f"{uri}/api/2.0/mlflow/experiments/search?max_results=1"
        assert requests.get(search, timeout=10).status_code == 401
        assert requests.get(search, auth=ADMIN, timeout=10).status_code == 200

        as_trainer = {"MLFLOW_TRACKING_USERNAME": TRAINER[0], "MLFLOW_TRACKING_PASSWORD": TRAINER[1]}
        trained = run_trainer(uri, "--model-name", "guarded", env=as_trainer, summary_dir=tmp_path / "s")
        assert trained.returncode == 0, trained.stderr[-3000:]
        assert trained.promoted

        anonymous = run_trainer(
            uri, "--model-name", "guarded", "--mlflow-wait-seconds", "5", summary_dir=tmp_path / "s"
        )
        assert anonymous.returncode == 1
        assert "401" in anonymous.stderr or "Unauthorized" in anonymous.stderr, anonymous.stderr[-2000:]

        api = ApiProcess(
            tmp_path, uri, "guarded",
            env={"MLFLOW_TRACKING_USERNAME": "api", "MLFLOW_TRACKING_PASSWORD": API_V2},
        ).start()  # fmt: skip
        try:
            assert api.wait_ready()["version"] == trained.version
            response = requests.post(f"{api.url}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
            assert response.status_code == 200, response.text
        finally:
            api.stop()

        alias = {"name": "guarded", "alias": "production", "version": trained.version}
        set_alias = f"{uri}/api/2.0/mlflow/registered-models/alias"
        assert requests.post(set_alias, json=alias, auth=("api", API_V2), timeout=10).status_code == 403
        assert requests.get(search, auth=("api", API_V1), timeout=10).status_code == 401  # rotated away
    finally:
        server.stop()
