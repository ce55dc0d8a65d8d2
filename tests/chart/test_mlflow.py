"""mlflow subchart: the server's flags, its backends, probes, and the migration hook."""

from tests.chart.conftest import EXTERNAL, container, env, hook, pod_spec, render

DEPLOY = "mlstack-mlflow"


def _args(out) -> dict[str, str]:
    args = container(out.get("Deployment", DEPLOY), "mlflow")["args"]
    return dict(a.removeprefix("--").split("=", 1) if "=" in a else (a.removeprefix("--"), "") for a in args)


def test_server_serves_artifacts_from_the_bucket_on_the_postgres_backend():
    out = render()
    mlflow = container(out.get("Deployment", DEPLOY), "mlflow")
    assert mlflow["command"] == ["mlflow", "server"]
    args = _args(out)
    assert args["host"] == "0.0.0.0" and args["port"] == "5000"
    assert "serve-artifacts" in args
    assert args["artifacts-destination"] == "s3://mlflow/artifacts"
    assert args["backend-store-uri"] == "$(MLFLOW_BACKEND_STORE_URI)"
    variables = env(mlflow)
    assert variables["MLFLOW_BACKEND_STORE_URI"] == "postgresql://mlflow@mlstack-postgresql:5432/mlflow"
    assert variables["PGPASSWORD"] == {"secretKeyRef": {"name": "mlstack-postgresql", "key": "password"}}
    assert variables["MLFLOW_S3_ENDPOINT_URL"] == "http://mlstack-minio:9000"


def test_allowed_hosts_cover_every_service_name_and_localhost():
    hosts = _args(render({"mlflow": {"extraAllowedHosts": ["mlflow.example.com"]}}))["allowed-hosts"].split(
        ","
    )
    for name in (
        "mlstack-mlflow",
        "mlstack-mlflow.ml",
        "mlstack-mlflow.ml.svc",
        "mlstack-mlflow.ml.svc.cluster.local",
    ):
        assert name in hosts and f"{name}:*" in hosts
    assert {"localhost:*", "127.0.0.1:*", "mlflow.example.com"} <= set(hosts)


def test_external_database_uri_carries_host_port_and_sslmode_but_no_password():
    out = render(EXTERNAL)
    uri = env(container(out.get("Deployment", DEPLOY), "mlflow"))["MLFLOW_BACKEND_STORE_URI"]
    assert uri == "postgresql://mlflow@pg.example.internal:6432/mlflow?sslmode=require"
    assert _args(out)["artifacts-destination"] == "s3://mlflow/artifacts"


def test_probes_use_health():
    mlflow = container(render().get("Deployment", DEPLOY), "mlflow")
    assert mlflow["startupProbe"]["httpGet"]["path"] == "/health"
    assert mlflow["readinessProbe"]["httpGet"]["path"] == "/health"
    assert mlflow["livenessProbe"]["httpGet"]["path"] == "/health"


def test_migration_hook_runs_before_upgrades_and_waits_for_the_database():
    out = render()
    job = out.get("Job", f"{DEPLOY}-migrate")
    events, weight = hook(job)
    # The bundled Postgres does not exist before install: the init container migrates a fresh install.
    assert events == {"pre-upgrade"}
    assert weight < 0
    command = container(job, "migrate")["command"]
    assert command[:3] == ["python", "-m", "mlstack.db_migrate"] and "--wait-seconds" in command
    init = container(out.get("Deployment", DEPLOY), "migrate")
    assert init["command"] == command
    assert env(init)["MLFLOW_BACKEND_STORE_URI"] == env(container(job, "migrate"))["MLFLOW_BACKEND_STORE_URI"]


def test_migration_hook_also_runs_pre_install_with_an_external_database():
    events, _ = hook(render(EXTERNAL).get("Job", f"{DEPLOY}-migrate"))
    assert events == {"pre-install", "pre-upgrade"}


def test_hook_weights_order_migration_before_bucket():
    out = render()
    _, migrate = hook(out.get("Job", f"{DEPLOY}-migrate"))
    _, bucket = hook(out.get("Job", "mlstack-minio-bucket"))
    assert migrate < bucket


def test_replicas_get_a_disruption_budget():
    assert render().find("PodDisruptionBudget", DEPLOY) is None
    out = render({"mlflow": {"replicas": 3}})
    assert out.get("Deployment", DEPLOY)["spec"]["replicas"] == 3
    assert out.get("PodDisruptionBudget", DEPLOY)["spec"]["maxUnavailable"] == 1


AUTH_SECRET = "mlstack-mlflow-auth"


def test_basic_auth_is_off_by_default_and_clients_then_send_no_credentials():
    out = render()
    assert "app-name" not in _args(out)
    assert not [o for o in out.objects if o["metadata"]["name"] == AUTH_SECRET]
    for kind, name, cname in (
        ("Deployment", "mlstack-api", "api"),
        ("CronJob", "mlstack-trainer", "trainer"),
    ):
        ref = env(container(out.get(kind, name), cname))["MLFLOW_TRACKING_PASSWORD"]["secretKeyRef"]
        assert ref["optional"] is True and ref["name"] == AUTH_SECRET  # absent Secret: variable unset


def test_basic_auth_option_wires_server_migration_trainer_and_api():
    out = render({"mlflow": {"auth": {"enabled": True}}})
    assert _args(out)["app-name"] == "basic-auth"
    deployment = out.get("Deployment", DEPLOY)
    server = env(container(deployment, "mlflow"))
    assert server["MLFLOW_AUTH_ADMIN_PASSWORD"] == {
        "secretKeyRef": {"name": AUTH_SECRET, "key": "admin-password"}
    }
    assert server["MLFLOW_FLASK_SERVER_SECRET_KEY"]["secretKeyRef"]["name"] == AUTH_SECRET
    assert "MLSTACK_AUTH_PASSWORD_API" not in server, "the server needs no client passwords"
    ini = out.get("ConfigMap", AUTH_SECRET)["data"]["basic_auth.ini"]
    assert "database_uri = postgresql://mlflow@mlstack-postgresql:5432/mlflow_auth\n" in ini
    assert "default_permission = READ" in ini
    init = env(
        next(c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "migrate")
    )
    assert init["MLSTACK_AUTH_DATABASE"] == "mlflow_auth" and init["MLSTACK_AUTH_USERS"] == "trainer,api"
    assert init["MLSTACK_AUTH_PASSWORD_TRAINER"] == {
        "secretKeyRef": {"name": AUTH_SECRET, "key": "trainer-password"}
    }
    secret = out.get("Secret", AUTH_SECRET)
    assert set(secret["data"]) == {
        "admin-username", "admin-password", "trainer-username", "trainer-password",
        "api-username", "api-password", "flask-secret-key",
    }  # fmt: skip
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    api = env(container(out.get("Deployment", "mlstack-api"), "api"))
    assert api["MLFLOW_TRACKING_USERNAME"]["secretKeyRef"]["key"] == "api-username"
    trainer = env(container(out.get("CronJob", "mlstack-trainer"), "trainer"))
    assert trainer["MLFLOW_TRACKING_PASSWORD"]["secretKeyRef"]["key"] == "trainer-password"


def test_basic_auth_rejects_an_unknown_default_permission():
    import pytest

    with pytest.raises(Exception, match="defaultPermission"):
        render({"mlflow": {"auth": {"enabled": True, "defaultPermission": "ALL"}}})


def test_bundled_minio_bucket_is_created_before_the_server_starts():
    out = render({"global": {"objectStore": {"bucket": "team-artifacts"}}})
    deploy = out.get("Deployment", DEPLOY)
    init = [c["name"] for c in pod_spec(deploy)["initContainers"]]
    assert init == ["migrate", "bucket"]
    bucket = container(deploy, "bucket")
    assert bucket["command"][:4] == ["python", "-m", "mlstack.s3_bucket", "team-artifacts"]
    variables = env(bucket)
    assert variables["MLFLOW_S3_ENDPOINT_URL"] == "http://mlstack-minio:9000"
    assert variables["AWS_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "mlstack-minio", "key": "root-password"}
    }


def test_external_s3_bucket_is_the_users_and_is_not_created():
    deploy = render(EXTERNAL).get("Deployment", DEPLOY)
    assert [c["name"] for c in pod_spec(deploy)["initContainers"]] == ["migrate"]


def test_mlflow_job_runner_is_off():
    """MLflow 3's job runner and huey consumers (~240 MB each) would outgrow the pod's memory limit."""
    variables = env(container(render().get("Deployment", DEPLOY), "mlflow"))
    assert variables["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
