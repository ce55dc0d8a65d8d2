"""minio subchart: StatefulSet, credentials, the re-runnable bucket Job, external S3."""

from tests.chart.conftest import EXTERNAL, container, env, hook, render

STS = "mlstack-minio"


def test_statefulset_serves_s3_with_health_probes_and_a_volume():
    sts = render().get("StatefulSet", STS)
    minio = container(sts, "minio")
    assert minio["args"][:2] == ["server", "/data"]
    assert minio["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
    assert minio["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert env(minio)["MINIO_ROOT_PASSWORD"]["secretKeyRef"]["name"] == STS


def test_credentials_secret_is_generated_and_kept():
    secret = render().get("Secret", STS)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert set(secret["data"]) == {"root-user", "root-password"}


def test_bucket_job_is_a_post_install_hook_that_is_safe_to_rerun():
    out = render({"global": {"objectStore": {"bucket": "team-artifacts"}}})
    job = out.get("Job", f"{STS}-bucket")
    events, weight = hook(job)
    assert events == {"post-install", "post-upgrade"} and weight == 0
    script = container(job, "create-bucket")["args"][0]
    assert "mc mb --ignore-existing" in script and "until mc alias set" in script
    assert env(container(job, "create-bucket"))["BUCKET"] == "team-artifacts"


def test_console_can_be_turned_off():
    out = render({"minio": {"console": False}})
    assert [p["name"] for p in out.get("Service", STS)["spec"]["ports"]] == ["s3"]
    assert env(container(out.get("StatefulSet", STS), "minio"))["MINIO_BROWSER"] == "off"


def test_external_s3_renders_no_minio_and_points_mlflow_at_the_endpoint():
    out = render(EXTERNAL)
    assert not [n for n in out.names() if n[1].startswith(STS)]
    mlflow = env(container(out.get("Deployment", "mlstack-mlflow"), "mlflow"))
    assert mlflow["MLFLOW_S3_ENDPOINT_URL"] == "https://s3.example.com"
    assert mlflow["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert mlflow["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "s3-creds", "key": "id"}}
    assert mlflow["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "s3-creds", "key": "key"}}
