"""api subchart: probes, environment contract, rollout, autoscaling, disruption budget, API key."""

import pytest

from tests.chart.conftest import container, env, pod_spec, render, render_error

DEPLOY = "mlstack-api"


def test_probes_gate_traffic_on_a_loaded_model():
    api = container(render().get("Deployment", DEPLOY), "api")
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_environment_follows_the_design_contract():
    out = render({"global": {"modelName": "wine", "modelAlias": "champion"}, "api": {"workers": 2}})
    variables = env(container(out.get("Deployment", DEPLOY), "api"))
    assert variables["MLFLOW_TRACKING_URI"] == "http://mlstack-mlflow:5000"
    assert variables["MLSTACK_MODEL_NAME"] == "wine"
    assert variables["MLSTACK_MODEL_ALIAS"] == "champion"
    assert variables["MLSTACK_HOST"] == "0.0.0.0" and variables["MLSTACK_PORT"] == "8080"
    assert variables["MLSTACK_WORKERS"] == "2"
    assert {"MLSTACK_REFRESH_SECONDS", "MLSTACK_MAX_BATCH", "MLSTACK_SHUTDOWN_GRACE_SECONDS"} <= set(
        variables
    )
    assert "MLSTACK_API_KEY" not in variables


def test_rollout_never_removes_a_ready_pod_first_and_waits_for_the_drain():
    out = render({"api": {"preStopSeconds": 7, "shutdownGraceSeconds": 25}})
    deploy = out.get("Deployment", DEPLOY)
    assert deploy["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    api = container(deploy, "api")
    assert api["lifecycle"]["preStop"]["sleep"]["seconds"] == 7
    assert env(api)["MLSTACK_SHUTDOWN_GRACE_SECONDS"] == "25"
    assert pod_spec(deploy)["terminationGracePeriodSeconds"] == 7 + 25 + 10


def test_hpa_bounds_and_target_come_from_values():
    out = render(
        {"api": {"autoscaling": {"minReplicas": 3, "maxReplicas": 12, "targetCPUUtilizationPercentage": 60}}}
    )
    hpa = out.get("HorizontalPodAutoscaler", DEPLOY)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    assert hpa["spec"]["scaleTargetRef"]["name"] == DEPLOY
    # The HPA owns the replica count: the Deployment must not fight it on every upgrade.
    assert "replicas" not in out.get("Deployment", DEPLOY)["spec"]


def test_without_autoscaling_the_deployment_sets_replicas():
    out = render({"api": {"autoscaling": {"enabled": False}, "replicas": 4}})
    assert out.find("HorizontalPodAutoscaler", DEPLOY) is None
    assert out.get("Deployment", DEPLOY)["spec"]["replicas"] == 4


def test_min_above_max_fails_naming_both_values():
    message = render_error({"api": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}})
    assert "api.autoscaling.minReplicas (5) is greater than api.autoscaling.maxReplicas (2)" in message


def test_pdb_and_its_toggle():
    assert render().get("PodDisruptionBudget", DEPLOY)["spec"]["maxUnavailable"] == 1
    assert (
        render({"api": {"podDisruptionBudget": {"enabled": False}}}).find("PodDisruptionBudget", DEPLOY)
        is None
    )


def test_scrape_annotations_point_at_metrics():
    annotations = render().get("Deployment", DEPLOY)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("existing", ["", "team-api-key"])
def test_api_key_comes_from_a_secret(existing):
    out = render({"api": {"apiKey": {"enabled": True, "existingSecret": existing}}})
    ref = env(container(out.get("Deployment", DEPLOY), "api"))["MLSTACK_API_KEY"]["secretKeyRef"]
    assert ref == {"name": existing or DEPLOY, "key": "api-key"}
    generated = out.find("Secret", DEPLOY)
    assert (generated is None) == bool(existing)
    if generated:
        assert len(generated["data"]["api-key"]) >= 40


def test_service_monitor_only_when_the_crd_exists():
    assert render().find("ServiceMonitor", DEPLOY) is None
    out = render(api_versions=["monitoring.coreos.com/v1/ServiceMonitor"])
    monitor = out.get("ServiceMonitor", DEPLOY)
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "api"
    off = render(
        {"monitoring": {"serviceMonitor": {"enabled": False}}},
        api_versions=["monitoring.coreos.com/v1/ServiceMonitor"],
    )
    assert off.find("ServiceMonitor", DEPLOY) is None
