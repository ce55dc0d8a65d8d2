"""postgresql subchart: StatefulSet, Services, generated or existing Secret, external database."""

from tests.chart.conftest import EXTERNAL, container, env, pod_spec, render

STS = "mlstack-postgresql"


def test_statefulset_claims_a_volume_and_checks_readiness_with_pg_isready():
    sts = render().get("StatefulSet", STS)
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert sts["spec"]["serviceName"] == f"{STS}-hl"
    pg = container(sts, "postgresql")
    assert "pg_isready" in " ".join(pg["readinessProbe"]["exec"]["command"])
    assert pg["livenessProbe"] != pg["readinessProbe"]
    mounts = {m["mountPath"] for m in pg["volumeMounts"]}
    assert {"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"} <= mounts


def test_headless_and_client_services():
    out = render()
    assert out.get("Service", f"{STS}-hl")["spec"]["clusterIP"] == "None"
    client = out.get("Service", STS)
    assert client["spec"]["ports"][0]["port"] == 5432 and "clusterIP" not in client["spec"]


def test_generated_password_secret_is_kept_and_feeds_postgres():
    out = render()
    secret = out.get("Secret", STS)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(secret["data"]["password"]) > 30
    ref = env(container(out.get("StatefulSet", STS), "postgresql"))["POSTGRES_PASSWORD"]
    assert ref == {"secretKeyRef": {"name": STS, "key": "password"}}


def test_each_render_generates_a_new_password_without_a_live_secret():
    # helm template has no cluster: lookup finds nothing, so the value is random (kept on upgrade by
    # lookup, which tests/cluster exercises against a real API server).
    first = render({"postgresql": {"persistence": {"size": "1Gi"}}}).get("Secret", STS)["data"]["password"]
    second = render({"postgresql": {"persistence": {"size": "2Gi"}}}).get("Secret", STS)["data"]["password"]
    assert first != second


def test_existing_secret_replaces_the_generated_one():
    out = render({"global": {"database": {"existingSecret": "my-db", "passwordKey": "pgpass"}}})
    assert out.find("Secret", STS) is None
    ref = env(container(out.get("StatefulSet", STS), "postgresql"))["POSTGRES_PASSWORD"]
    assert ref == {"secretKeyRef": {"name": "my-db", "key": "pgpass"}}
    mlflow = env(container(out.get("Deployment", "mlstack-mlflow"), "mlflow"))
    assert mlflow["PGPASSWORD"] == {"secretKeyRef": {"name": "my-db", "key": "pgpass"}}


def test_external_database_renders_no_postgres():
    out = render(EXTERNAL)
    assert not [n for n in out.names() if n[1].startswith(STS)]


def test_retention_policy_follows_values():
    sts = render({"postgresql": {"persistence": {"whenDeleted": "Delete"}}}).get("StatefulSet", STS)
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"


def test_runs_as_the_stack_uid_with_group_owned_data():
    spec = pod_spec(render().get("StatefulSet", STS))
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["fsGroup"] == 10001
