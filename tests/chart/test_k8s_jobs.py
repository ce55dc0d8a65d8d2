"""The plain trainer Job under k8s-jobs/: valid Kubernetes (strict schemas) and kube-score clean."""

import subprocess

from tests.support.pins import CACHE, REPO, tool, versions

JOB = REPO / "k8s-jobs" / "train-job.yaml"


def test_train_job_is_valid_under_strict_schemas():
    schemas = CACHE / "kube-schemas" / f"{versions()['KUBERNETES_VERSION']}-standalone-strict"
    result = subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-schema-location",
            f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            str(JOB),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_train_job_has_no_kube_score_findings():
    result = subprocess.run(
        [tool("kube-score"), "score", "--output-format", "ci", "--exit-one-on-warning", str(JOB)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = [line for line in result.stdout.splitlines() if not line.startswith(("[OK]", "[SKIPPED]"))]
    assert result.returncode == 0 and not findings, "\n".join(findings)


def test_plain_job_runs_the_same_pod_as_the_chart_trainer():
    """k8s-jobs/train-job.yaml is the chart's trainer for kubectl users: same container, security,
    resources and config keys, and labels the release's NetworkPolicies admit to MLflow."""
    import yaml

    from tests.chart.conftest import container, pod_spec, render

    docs = list(yaml.safe_load_all(JOB.read_text()))
    job = next(d for d in docs if d["kind"] == "Job")
    config_map = next(d for d in docs if d["kind"] == "ConfigMap")
    chart = render()
    cron = chart.get("CronJob", "mlstack-trainer")
    plain, templated = container(job, "trainer"), container(cron, "trainer")
    for field in ("command", "securityContext", "resources", "volumeMounts"):
        assert plain[field] == templated[field], field
    assert plain["env"] == templated["env"]
    assert pod_spec(job)["securityContext"] == pod_spec(cron)["securityContext"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    allowed = chart.get("NetworkPolicy", "mlstack-mlflow")["spec"]["ingress"][0]["from"]
    assert any(peer["podSelector"]["matchLabels"].items() <= labels.items() for peer in allowed)
    plain_config = yaml.safe_load(config_map["data"]["config.yaml"])
    chart_config = yaml.safe_load(chart.get("ConfigMap", "mlstack-trainer")["data"]["config.yaml"])
    assert set(plain_config) - {"target"} == set(chart_config)
