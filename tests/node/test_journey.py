"""The user journey on a real node: every container below really runs (see conftest.py).

helm install with the stack's own images; the bootstrap training Job completes; API pods turn Ready
only after loading the Production model; a prediction through `kubectl port-forward`; a second
training Job from the CronJob moves the alias and every API pod follows; the HPA scales the
Deployment; helm uninstall. The tests run in this order and share one release.

`helm install --wait --wait-for-jobs` is the user's command; on a real node it also proves that
nothing the first model needs waits for a post-install hook (helm runs those only after --wait
is satisfied, and the API is Ready only once that model exists).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml

from tests.node.conftest import project_version, reporter_line
from tests.support.pins import REPO

pytestmark = pytest.mark.node

RELEASE = "mlstack"
NAMESPACE = "mlstack"
HELM_TIMEOUT = "10m"
# The kind profile's small requests fit one node; node-values.yaml points at the imported images and
# makes the first model a weak one so the second training run beats it.
PROFILES = [
    REPO / "charts" / "mlstack" / "ci" / "kind-values.yaml",
    Path(__file__).parent / "node-values.yaml",
]
API_SELECTOR = f"app.kubernetes.io/name=api,app.kubernetes.io/instance={RELEASE}"
T = TypeVar("T")
# In-cluster load for the HPA: 16 threads posting one record (argv: URL, record JSON, seconds).
LOAD = """
import json, sys, threading, time, urllib.request
url, body = sys.argv[1], json.dumps({"inputs": json.loads(sys.argv[2])}).encode()
def hammer():
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        try:
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).read()
        except Exception:
            time.sleep(0.1)
threads = [threading.Thread(target=hammer) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Journey:
    env: dict[str, str]
    chart: Path
    install: subprocess.CompletedProcess | None = None
    install_seconds: float = 0.0
    seen: dict = field(default_factory=dict)

    def run(self, *cmd: str, stdin: str | None = None, check: bool = True, timeout: float = 900) -> str:
        proc = subprocess.run(
            cmd, env=self.env, input=stdin, capture_output=True, text=True, check=False, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout[-2000:]}"
            )
        return proc.stdout

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        return self.run("kubectl", "-n", NAMESPACE, *args, stdin=stdin, check=check)

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def require_installed(self) -> None:
        if self.install is None or self.install.returncode != 0:
            pytest.fail("helm install failed; see test_install_runs_the_bootstrap_training")

    def api_pods(self, ready_only: bool = True) -> list[dict]:
        pods = self.get("pods", "-l", API_SELECTOR)["items"]
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if ready_only:
            pods = [p for p in pods if condition(p, "Ready") == "True"]
        return pods

    def diagnostics(self) -> str:
        return self.kubectl("get", "all,pvc,events", "-o", "wide", check=False)[-6000:]

    @contextmanager
    def port_forward(self, target: str, remote_port: int) -> Iterator[str]:
        """`kubectl port-forward TARGET :REMOTE` on a free local port; yields the base URL kubectl reports."""
        proc = subprocess.Popen(
            ["kubectl", "-n", NAMESPACE, "port-forward", target, f":{remote_port}"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"Forwarding from (127\.0\.0\.1|\[::1\]):(\d+)", line)
            if not match:
                proc.kill()
                raise AssertionError(
                    f"kubectl port-forward {target}: {line}{proc.stderr.read() if proc.stderr else ''}"
                )
            host = match.group(1).strip("[]")
            yield f"http://{'[' + host + ']' if ':' in host else host}:{match.group(2)}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def condition(obj: dict, kind: str) -> str | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond["type"] == kind:
            return cond["status"]
    return None


def condition_time(obj: dict, kind: str) -> datetime:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond["type"] == kind:
            return ts(cond["lastTransitionTime"])
    raise AssertionError(f"{obj['metadata']['name']} has no {kind} condition")


def wait_until(what: str, timeout: float, check: Callable[[], T], interval: float = 2.0) -> T:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def served_version(journey: Journey, pod: str) -> tuple[int, dict]:
    """GET /v1/model of one API pod through its own port-forward."""
    with journey.port_forward(f"pod/{pod}", 8080) as base:
        response = httpx.get(f"{base}/v1/model", timeout=10)
    return response.status_code, response.json()


@pytest.fixture(scope="class")
def journey(node_env: dict[str, str], chart: Path) -> Iterator[Journey]:
    j = Journey(env=node_env, chart=chart)
    profiles = [arg for p in PROFILES for arg in ("-f", str(p))]
    t0 = time.monotonic()
    j.install = subprocess.run(
        [
            "helm", "install", RELEASE, str(chart), "-n", NAMESPACE, "--create-namespace", *profiles,
            "--set", f"global.image.tag={project_version()}", "--timeout", HELM_TIMEOUT,
            "--wait", "--wait-for-jobs",
        ],
        env=node_env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    j.install_seconds = time.monotonic() - t0
    yield j
    j.run("helm", "-n", NAMESPACE, "uninstall", RELEASE, "--wait", check=False)


@pytest.mark.timeout(1500)
class TestJourney:
    def test_install_runs_the_bootstrap_training(self, journey: Journey, pytestconfig: pytest.Config) -> None:
        assert journey.install is not None
        assert journey.install.returncode == 0, (
            f"helm install --wait --wait-for-jobs failed after {journey.install_seconds:.0f}s:\n"
            f"{journey.install.stderr}\n{journey.diagnostics()}"
        )
        reporter_line(pytestconfig)(
            f"helm install to all workloads ready took {journey.install_seconds:.0f}s"
        )
        status = json.loads(journey.run("helm", "-n", NAMESPACE, "status", RELEASE, "-o", "json"))
        assert status["info"]["status"] == "deployed", status["info"]
        jobs = journey.get("jobs", "-l", "app.kubernetes.io/component=bootstrap")["items"]
        assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
        job = jobs[0]
        assert condition(job, "Complete") == "True", job["status"]
        journey.seen["bootstrap_done"] = ts(job["status"]["completionTime"])
        # The trainer really ran: its pod exited 0 and logged the registered version.
        pods = journey.get("pods", "-l", f"job-name={job['metadata']['name']}")["items"]
        finished = [p for p in pods if p["status"]["phase"] == "Succeeded"]
        assert finished, [p["status"] for p in pods]
        state = finished[0]["status"]["containerStatuses"][0]["state"]["terminated"]
        assert state["exitCode"] == 0, state
        logs = journey.kubectl("logs", finished[0]["metadata"]["name"])
        assert logs.strip(), "the bootstrap trainer logged nothing"
        journey.seen["bootstrap_logs"] = logs[-2000:]

    def test_api_pods_ready_only_with_the_production_model(self, journey: Journey) -> None:
        journey.require_installed()
        deployment = journey.get("deployment", f"{RELEASE}-api")
        probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe["httpGet"]["path"] == "/readyz", probe
        pods = journey.api_pods()
        assert len(pods) == deployment["spec"]["replicas"] >= 2, [p["metadata"]["name"] for p in pods]
        served = {p["metadata"]["name"]: served_version(journey, p["metadata"]["name"]) for p in pods}
        for status, model in served.values():
            assert status == 200, model
            assert model["alias"] == "production", model
        versions = {model["version"] for _, model in served.values()}
        assert len(versions) == 1, versions
        version = versions.pop()
        model_name = next(iter(served.values()))[1]["name"]
        # When the registry got the version (the bootstrap run registers it, then moves the alias).
        with journey.port_forward(f"svc/{RELEASE}-mlflow", 5000) as mlflow:
            registered = httpx.get(
                f"{mlflow}/api/2.0/mlflow/model-versions/get",
                params={"name": model_name, "version": version},
                timeout=10,
            ).json()["model_version"]
        created = datetime.fromtimestamp(int(registered["creation_timestamp"]) // 1000, UTC)
        for pod in pods:
            name = pod["metadata"]["name"]
            ready_at = condition_time(pod, "Ready")
            started = ts(pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"])
            loaded = ts(served[name][1]["loaded_at"])
            # Ready came after the model was loaded (condition times are whole seconds)...
            assert loaded.replace(microsecond=0) <= ready_at, (name, loaded, ready_at)
            # ...and a pod that started before the version existed stayed unready until it did.
            if started < created:
                assert ready_at >= created, (name, started, created, ready_at)
                journey.seen.setdefault("waited", []).append(name)
        # At install every API pod starts before the first model exists, so the check above is not empty.
        assert journey.seen.get("waited"), (created, [p["status"]["startTime"] for p in pods])
        journey.seen["first_version"] = version

    def test_prediction_through_port_forward(self, journey: Journey) -> None:
        journey.require_installed()
        with journey.port_forward(f"svc/{RELEASE}-api", 8080) as base:
            model = httpx.get(f"{base}/v1/model", timeout=10).json()
            features = model["input_schema"]
            record = {
                "sepal length (cm)": 5.1,
                "sepal width (cm)": 3.5,
                "petal length (cm)": 1.4,
                "petal width (cm)": 0.2,
            }
            assert {f["name"] for f in features} == set(record), features
            response = httpx.post(f"{base}/v1/predict", json={"inputs": record}, timeout=10)
            assert response.status_code == 200, response.text
            body = response.json()
            assert str(body["model_version"]) == str(journey.seen["first_version"]), body
            bad = httpx.post(f"{base}/v1/predict", json={"inputs": {"sepal length (cm)": 5.1}}, timeout=10)
            assert bad.status_code == 422 and "sepal width" in bad.text, bad.text

    def test_second_training_job_moves_the_alias_and_every_pod_follows(
        self, journey: Journey, pytestconfig: pytest.Config
    ) -> None:
        journey.require_installed()
        # The team retrains with the estimator's default regularisation instead of the weak first one.
        configmap = journey.get("configmap", f"{RELEASE}-trainer")
        config = yaml.safe_load(configmap["data"]["config.yaml"])
        assert config["params"] == {"C": 0.001}, config
        config["params"] = {}
        configmap["data"]["config.yaml"] = yaml.safe_dump(config)
        journey.kubectl("replace", "-f", "-", stdin=json.dumps(configmap))
        journey.kubectl("create", "job", "train-2", f"--from=cronjob/{RELEASE}-trainer")
        journey.kubectl("wait", "--for=condition=complete", "job/train-2", "--timeout=600s")
        first = journey.seen["first_version"]

        def all_follow() -> dict[str, str] | None:
            pods = journey.api_pods()
            served = {
                p["metadata"]["name"]: str(served_version(journey, p["metadata"]["name"])[1].get("version"))
                for p in pods
            }
            return served if served and all(v != str(first) for v in served.values()) else None

        t0 = time.monotonic()
        served = wait_until("every API pod to serve the promoted version", 120, all_follow)
        assert len(set(served.values())) == 1, served
        journey.seen["second_version"] = next(iter(served.values()))
        journey.seen["follow_seconds"] = time.monotonic() - t0
        reporter_line(pytestconfig)(
            f"alias moved {first} -> {journey.seen['second_version']}; all {len(served)} API pods followed "
            f"{journey.seen['follow_seconds']:.0f}s after train-2 was marked complete"
        )
        assert int(journey.seen["second_version"]) > int(first), served
        assert len(served) == journey.get("deployment", f"{RELEASE}-api")["spec"]["replicas"], served

    def test_hpa_floor_resizes_the_deployment(self, journey: Journey) -> None:
        journey.require_installed()
        hpa = journey.get("hpa", f"{RELEASE}-api")
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", f"{RELEASE}-api"), target
        before = journey.get("deployment", f"{RELEASE}-api")["spec"]["replicas"]
        # Raising the floor above the current size makes the HPA controller itself resize the
        # Deployment, whatever the metrics say (the next test drives it with CPU).
        want = before + 1
        assert want <= hpa["spec"]["maxReplicas"], (before, hpa["spec"])
        journey.kubectl(
            "patch",
            "hpa",
            f"{RELEASE}-api",
            "--type=merge",
            "-p",
            json.dumps({"spec": {"minReplicas": want}}),
        )
        wait_until(
            f"the HPA to scale the Deployment to {want}",
            60,
            lambda: journey.get("deployment", f"{RELEASE}-api")["spec"]["replicas"] == want,
        )
        journey.kubectl("rollout", "status", f"deployment/{RELEASE}-api", "--timeout=300s")
        pods = wait_until(
            f"{want} Ready API pods", 300, lambda: len(journey.api_pods()) == want and journey.api_pods()
        )
        for pod in pods:
            status, model = served_version(journey, pod["metadata"]["name"])
            assert status == 200 and str(model["version"]) == journey.seen["second_version"], model
        events = journey.get("events", "--field-selector", f"involvedObject.name={RELEASE}-api")["items"]
        assert any(
            e["reason"] == "SuccessfulRescale" and f"New size: {want};" in e["message"] for e in events
        ), [e["message"] for e in events]

    def test_hpa_adds_pods_under_cpu_load(self, journey: Journey, pytestconfig: pytest.Config) -> None:
        journey.require_installed()
        hpa = journey.get("hpa", f"{RELEASE}-api")
        floor, ceiling = hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]
        assert floor < ceiling, hpa["spec"]

        def api_pod_metrics() -> list[dict]:
            raw = journey.run(
                "kubectl",
                "get",
                "--raw",
                f"/apis/metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods",
                check=False,
            )
            items = json.loads(raw)["items"] if raw.strip() else []
            return [m for m in items if m["metadata"]["name"].startswith(f"{RELEASE}-api-")]

        wait_until("metrics-server to report the API pods' CPU", 120, api_pod_metrics)
        service = journey.get("service", f"{RELEASE}-api")
        port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "http")
        record = {
            "sepal length (cm)": 5.1,
            "sepal width (cm)": 3.5,
            "petal length (cm)": 1.4,
            "petal width (cm)": 0.2,
        }
        url = f"http://{RELEASE}-api:{port}/v1/predict"
        journey.kubectl(
            "create", "job", "load", f"--image=mlstack/api:{project_version()}", "--",
            "python", "-c", LOAD, url, json.dumps(record), "300",
        )  # fmt: skip
        try:
            t0 = time.monotonic()

            def scaled() -> dict | None:
                status = journey.get("hpa", f"{RELEASE}-api").get("status", {})
                return status if status.get("desiredReplicas", 0) > floor else None

            status = wait_until(f"the HPA to want more than {floor} API pods under load", 300, scaled, 5)
            utilization = [
                m["resource"]["current"].get("averageUtilization") for m in status.get("currentMetrics") or []
            ]
            reporter_line(pytestconfig)(
                f"HPA wanted {status['desiredReplicas']} API pods (floor {floor}) at CPU {utilization}% of "
                f"requests, {time.monotonic() - t0:.0f}s after the load started"
            )
            wait_until(
                "the Deployment to follow the HPA",
                60,
                lambda: journey.get("deployment", f"{RELEASE}-api")["spec"]["replicas"] > floor,
            )
            journey.kubectl("rollout", "status", f"deployment/{RELEASE}-api", "--timeout=300s")
        finally:
            journey.kubectl("delete", "job", "load", "--wait=false", check=False)
        for pod in journey.api_pods():
            status_code, model = served_version(journey, pod["metadata"]["name"])
            assert status_code == 200 and str(model["version"]) == journey.seen["second_version"], model

    def test_uninstall_stops_every_pod(self, journey: Journey) -> None:
        journey.require_installed()
        journey.run("helm", "-n", NAMESPACE, "uninstall", RELEASE, "--wait", "--timeout", HELM_TIMEOUT)

        def gone() -> bool:
            pods = journey.get("pods", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]
            return not [p for p in pods if p["status"]["phase"] in ("Running", "Pending")]

        wait_until("the release's pods to terminate", 120, gone)
        left = journey.kubectl(
            "get", "deploy,sts,svc,cronjob,hpa", "-l", f"app.kubernetes.io/instance={RELEASE}", "-o", "name"
        )
        assert left.strip() == "", left
