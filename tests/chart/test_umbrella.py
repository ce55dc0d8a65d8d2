"""The umbrella: component toggles, labels, monitoring objects, helm test, NOTES, and a snapshot of
the default render (set MLSTACK_UPDATE_SNAPSHOTS=1 to accept an intended change)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.chart.conftest import CHART, RELEASE, containers, hook, render
from tests.support.pins import tool

SNAPSHOT = Path(__file__).parent / "snapshots" / "default.yaml"
CRDS = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"]


@pytest.mark.parametrize("component", ["postgresql", "minio", "mlflow", "api", "trainer"])
def test_each_component_can_be_switched_off(component):
    values = {component: {"enabled": False}}
    if component == "mlflow":
        values |= {"api": {"enabled": False}, "trainer": {"enabled": False}}
    if component == "postgresql":
        values |= {"global": {"externalDatabase": {"host": "db"}, "database": {"existingSecret": "db"}}}
    if component == "minio":
        values |= {
            "global": {"externalS3": {"endpoint": "https://s3"}, "objectStore": {"existingSecret": "s3"}}
        }
    out = render(values)
    owned = [
        n for o in out.objects for n in [o["metadata"]["labels"]["app.kubernetes.io/name"]] if n == component
    ]
    assert owned == []
    assert render().objects and any(
        o["metadata"]["labels"]["app.kubernetes.io/name"] == component for o in render().objects
    )


def test_every_object_has_the_standard_labels():
    for obj in render().objects:
        labels = obj["metadata"]["labels"]
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                    "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"):  # fmt: skip
            assert key in labels, f"{obj['kind']}/{obj['metadata']['name']} lacks {key}"
        assert labels["app.kubernetes.io/instance"] == RELEASE


def test_alert_rules_only_with_the_crd_and_cover_the_failure_modes():
    assert render().find("PrometheusRule", "mlstack-api") is None
    rule = render(api_versions=CRDS).get("PrometheusRule", "mlstack-api")
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == {
        "MlstackApiDown", "MlstackNoModelLoaded", "MlstackHighErrorRatio", "MlstackHighP99Latency",
        "MlstackRegistryUnreachable",
    }  # fmt: skip
    assert "mlstack_model_loaded" in alerts["MlstackNoModelLoaded"]
    assert "mlstack_registry_reachable" in alerts["MlstackRegistryUnreachable"]
    assert "0.25" in alerts["MlstackHighP99Latency"]
    assert 'job="mlstack-api"' in alerts["MlstackApiDown"]


def test_dashboard_is_valid_json_on_the_api_metrics():
    cm = render().get("ConfigMap", "mlstack-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["mlstack-api.json"])
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("mlstack_http_requests_total", "mlstack_http_request_duration_seconds_bucket",
                   "mlstack_predictions_total", "mlstack_model_loaded"):  # fmt: skip
        assert metric in exprs
    assert "RELEASE_API_JOB" not in cm["data"]["mlstack-api.json"]
    assert (
        render({"monitoring": {"grafanaDashboard": {"enabled": False}}}).find(
            "ConfigMap", "mlstack-dashboard"
        )
        is None
    )


def test_helm_test_pod_checks_mlflow_health_and_api_readiness():
    pod = render().get("Pod", "mlstack-test")
    events, _ = hook(pod)
    assert events == {"test"}
    args = pod["spec"]["containers"][0]["args"]
    assert "http://mlstack-mlflow:5000/health" in args and "http://mlstack-api:8080/readyz" in args


def test_notes_tell_the_user_what_to_run_next(tmp_path):
    # helm template does not render NOTES.txt (and a client dry-run install needs a cluster): render it
    # with `tpl` from a copy of the chart.
    chart = tmp_path / "mlstack"
    shutil.copytree(CHART, chart)
    (chart / "files" / "notes.txt").write_text((CHART / "templates" / "NOTES.txt").read_text())
    (chart / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n"
        '  notes: {{ tpl (.Files.Get "files/notes.txt") . | toJson }}\n'
    )
    done = subprocess.run(
        [tool("helm"), "template", RELEASE, str(chart), "-n", "ml", "--show-only", "templates/zz-notes.yaml"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    notes = yaml.safe_load(done.stdout)["data"]["notes"]
    assert "kubectl -n ml create job train-$(date +%s) --from=cronjob/mlstack-trainer" in notes
    assert "port-forward svc/mlstack-api 8080:8080" in notes
    assert "/readyz" in notes and "helm -n ml test mlstack" in notes
    # The sample prediction uses the API's real envelope ({"inputs": one record}).
    body = notes.split("-d '", 1)[1].split("'", 1)[0]
    assert list(json.loads(body)) == ["inputs"]


def _normalised(text: str) -> str:
    # Generated credentials and the checksum of the pod template that carries them change per render.
    text = re.sub(r"^(  [\w.-]+: )[A-Za-z0-9+/=]{20,}$", r"\1<generated>", text, flags=re.M)
    return re.sub(r"mlstack-trainer-bootstrap-[0-9a-f]{8}", "mlstack-trainer-bootstrap-<hash>", text)


def test_default_render_matches_the_snapshot():
    current = _normalised(render().text)
    if os.environ.get("MLSTACK_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
        pytest.skip(f"snapshot written to {SNAPSHOT}; review and commit it")
    assert current == SNAPSHOT.read_text(), "default render changed; MLSTACK_UPDATE_SNAPSHOTS=1 accepts it"


def test_mlstack_images_default_to_the_release_version():
    """Every mlstack image is tagged with the umbrella's appVersion (what `make images` builds)."""
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    images = {
        c["image"]
        for o in render().objects
        if o["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")
        for c in containers(o)
    }
    ours = {i for i in images if i.startswith("mlstack/")}
    assert ours == {f"mlstack/{n}:{app_version}" for n in ("mlflow", "api", "trainer")}
    tagged = render({"global": {"image": {"registry": "r.example.com", "tag": "1.2.3"}}}).objects
    assert "r.example.com/mlstack/api:1.2.3" in {
        c["image"] for o in tagged if o["kind"] == "Deployment" for c in containers(o)
    }
