"""NetworkPolicies at the manifest level: who may reach whom."""

from tests.chart.conftest import EXTERNAL, render


def _peers(rule: dict) -> set[str]:
    return {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in rule.get("from", rule.get("to", []))
            if "podSelector" in p}  # fmt: skip


def _policy(out, name: str) -> dict:
    return out.get("NetworkPolicy", name)["spec"]


def test_postgres_reachable_only_from_mlflow_and_its_migration():
    spec = _policy(render(), "mlstack-postgresql")
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "postgresql"
    assert [(_peers(r), r["ports"][0]["port"]) for r in spec["ingress"]] == [
        ({"mlflow", "mlflow-migrate"}, "postgres")
    ]


def test_minio_reachable_only_from_mlflow_and_its_bucket_job():
    spec = _policy(render(), "mlstack-minio")
    assert [(_peers(r), r["ports"][0]["port"]) for r in spec["ingress"]] == [
        ({"mlflow", "minio-bucket"}, "s3")
    ]


def test_mlflow_reachable_from_trainer_api_and_helm_test_only():
    spec = _policy(render(), "mlstack-mlflow")
    assert [_peers(r) for r in spec["ingress"]] == [{"trainer", "api", "mlstack-test"}]
    egress = [_peers(r) for r in spec["egress"]]
    assert {"postgresql"} in egress and {"minio"} in egress


def test_trainer_takes_no_ingress_and_reaches_only_mlflow_and_dns():
    spec = _policy(render(), "mlstack-trainer")
    assert "Ingress" in spec["policyTypes"] and not spec.get("ingress")
    targets = [(_peers(r), r["ports"][0]["port"]) for r in spec["egress"]]
    assert targets == [(set(), 53), ({"mlflow"}, 5000)]


def test_api_open_on_http_only_and_reaches_only_mlflow():
    spec = _policy(render(), "mlstack-api")
    assert spec["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    assert [_peers(r) for r in spec["egress"]][1:] == [{"mlflow"}]


def test_external_backends_are_reached_on_their_ports():
    spec = _policy(render(EXTERNAL), "mlstack-mlflow")
    ports = sorted(
        r["ports"][0]["port"] for r in spec["egress"] if any("ipBlock" in t for t in r.get("to", []))
    )
    assert ports == [443, 6432]


def test_policies_can_be_turned_off():
    assert render({"global": {"networkPolicy": {"enabled": False}}}).all("NetworkPolicy") == []
