"""The whole stack from the images, wired exactly as the chart renders it (with MLflow basic auth on):
train, serve, promote, restart Postgres, lose MLflow. Containers run read-only, with every capability dropped, as the
chart's UID."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.containers.stack import Render, Stack, docker
from tests.support.iris import IRIS_ROW
from tests.support.processes import http_ok

pytestmark = [pytest.mark.containers, pytest.mark.timeout(1500)]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        time.sleep(1)


def answers(url: str) -> Callable[[], bool]:
    return lambda: http_ok(url, timeout=3)


def pg_ready(cname: str, rendered: Render) -> Callable[[], bool]:
    """The chart's own readiness command (pg_isready), run inside the container."""
    probe = rendered.pod_spec("StatefulSet", "mlstack-postgresql")["containers"][0]["readinessProbe"]
    command = probe["exec"]["command"]
    return lambda: subprocess.run(["docker", "exec", cname, *command], capture_output=True).returncode == 0


@pytest.fixture
def stack(rendered: Render, workdir: Path) -> Iterator[Stack]:
    s = Stack(rendered, workdir)
    yield s
    s.close()


@dataclass
class MlflowRest:
    """MLflow's REST API as the chart's admin user (the stack runs with mlflow.auth.enabled)."""

    url: str
    auth: tuple[str, str]

    def get(self, path: str, **params: str) -> dict:
        response = requests.get(
            f"{self.url}/api/2.0/mlflow/{path}", params=params, auth=self.auth, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def run_ids(self) -> set[str]:
        experiments = self.get("experiments/search", max_results="100")["experiments"]
        body = {"experiment_ids": [e["experiment_id"] for e in experiments], "max_results": 1000}
        response = requests.post(
            f"{self.url}/api/2.0/mlflow/runs/search", json=body, auth=self.auth, timeout=10
        )
        response.raise_for_status()
        return {r["info"]["run_id"] for r in response.json().get("runs", [])}

    def version_numbers(self) -> set[str]:
        found = self.get("model-versions/search", filter="name='iris'").get("model_versions", [])
        return {v["version"] for v in found}


def test_stack_from_images(stack: Stack, rendered: Render) -> None:
    pg = stack.start("StatefulSet", "mlstack-postgresql", "postgresql", alias="mlstack-postgresql")
    wait_for(pg_ready(pg, rendered), "Postgres readiness (pg_isready)", 120)

    minio = stack.start("StatefulSet", "mlstack-minio", "minio", alias="mlstack-minio", publish=9000)
    wait_for(answers(f"{stack.url(minio, 9000)}/minio/health/ready"), "MinIO readiness")
    # MLflow's init container makes the bucket (as on a fresh install); the hook Job then finds it.
    bucket = stack.run_once("Deployment", "mlstack-mlflow", "bucket")
    assert bucket.returncode == 0, bucket.stdout + bucket.stderr
    assert "bucket created" in bucket.stderr, bucket.stderr
    again = stack.run_once("Job", "mlstack-minio-bucket", "create-bucket")
    assert again.returncode == 0, "the bucket Job must be safe to re-run:\n" + again.stdout + again.stderr

    migrate = stack.run_once("Deployment", "mlstack-mlflow", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    mlflow_c = stack.start("Deployment", "mlstack-mlflow", "mlflow", alias="mlstack-mlflow", publish=5000)
    mlflow = stack.url(mlflow_c, 5000)
    wait_for(answers(f"{mlflow}/health"), "MLflow /health", 180)
    auth = rendered.secrets["mlstack-mlflow-auth"]
    rest = MlflowRest(mlflow, (auth["admin-username"], auth["admin-password"]))
    anonymous = requests.get(f"{mlflow}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10)
    assert anonymous.status_code == 401, "basic auth must refuse anonymous registry calls"

    api_c = stack.start("Deployment", "mlstack-api", "api", alias="mlstack-api", publish=8080)
    api = stack.url(api_c, 8080)
    wait_for(answers(f"{api}/healthz"), "API /healthz")
    not_ready = requests.get(f"{api}/readyz", timeout=5)
    assert not_ready.status_code == 503, "the API must not be ready before any model exists"

    # A deliberately weak first model, then the default one, which the gate promotes.
    first = stack.run_once(
        "CronJob", "mlstack-trainer", "trainer", extra_env={"MLSTACK_PARAMS": json.dumps({"C": 0.0005})}
    )
    assert first.returncode == 0, first.stderr[-4000:]
    wait_for(answers(f"{api}/readyz"), "API readiness after the first training run", 120)
    response = requests.post(f"{api}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == "1"

    second = stack.run_once("CronJob", "mlstack-trainer", "trainer")
    assert second.returncode == 0, second.stderr[-4000:]
    model = rest.get("registered-models/get", name="iris")["registered_model"]
    assert {a["alias"]: a["version"] for a in model.get("aliases", [])}.get("production") == "2", model
    wait_for(
        lambda: (
            requests.post(f"{api}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
            .json()
            .get("model_version")
            == "2"
        ),
        "the API to follow the promotion to version 2",
        60,
    )
    assert requests.post(f"{api}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10).json()[
        "predictions"
    ] == [0]

    # Postgres restarts: runs and versions are all still there.
    runs_before, versions_before = rest.run_ids(), rest.version_numbers()
    assert len(runs_before) >= 2 and versions_before == {"1", "2"}
    docker("restart", pg)
    wait_for(pg_ready(pg, rendered), "Postgres readiness after restart", 120)

    def registry_back() -> bool:
        try:
            return rest.version_numbers() == versions_before
        except requests.RequestException:
            return False

    wait_for(registry_back, "MLflow to answer with every version after the Postgres restart", 60)
    assert rest.run_ids() == runs_before

    # MLflow goes away: the API keeps serving the model it has and stays Ready.
    docker("stop", mlflow_c)
    for _ in range(20):
        response = requests.post(f"{api}/v1/predict", json={"inputs": IRIS_ROW}, timeout=10)
        assert response.status_code == 200 and response.json()["model_version"] == "2"
    time.sleep(3)  # several refresh periods (api.refreshSeconds=1) against the missing registry
    assert requests.get(f"{api}/readyz", timeout=5).status_code == 200
    metrics = requests.get(f"{api}/metrics", timeout=5).text
    assert "mlstack_registry_reachable 0.0" in metrics

    # No generated credential in any log line or in the images themselves.
    captured = {
        "bucket init container": bucket.stdout + bucket.stderr,
        "bucket job": again.stdout + again.stderr,
        "migrate job": migrate.stdout + migrate.stderr,
        "trainer job 1": first.stdout + first.stderr,
        "trainer job 2": second.stdout + second.stderr,
        **{f"container {cname}": stack.logs(cname) for cname in stack.containers},
    }
    assert_no_credentials(rendered, captured)

    # The containers really ran with the chart's restrictions.
    inspect = json.loads(docker("inspect", api_c))[0]["HostConfig"]
    assert inspect["ReadonlyRootfs"] is True and inspect["CapDrop"] == ["ALL"]
    assert json.loads(docker("inspect", api_c))[0]["Config"]["User"] == "10001:10001"


def generated_credentials(rendered: Render) -> set[str]:
    """Every password and key the chart generated for this render (usernames and bucket names are not
    secret: they are values a user reads in values.yaml)."""
    secret_words = ("password", "secret", "key", "token")
    return {
        value
        for data in rendered.secrets.values()
        for key, value in data.items()
        if any(word in key.lower() for word in secret_words) and len(value) >= 12
    }


def assert_no_credentials(rendered: Render, captured: dict[str, str]) -> None:
    credentials = generated_credentials(rendered)
    assert len(credentials) >= 3, "expected the Postgres, MinIO and API credentials in the render"
    texts = dict(captured)
    for image in ("mlstack/api", "mlstack/mlflow", "mlstack/trainer"):
        reference = rendered_image(rendered, image)
        texts[f"history of {reference}"] = docker(
            "history", "--no-trunc", "--format", "{{.CreatedBy}}", reference
        )
        texts[f"config of {reference}"] = docker(
            "image", "inspect", "--format", "{{json .Config}}", reference
        )
        with subprocess.Popen(["docker", "save", reference], stdout=subprocess.PIPE) as save:
            found = subprocess.run(
                ["grep", "-a", "-c", "-F", *[arg for c in credentials for arg in ("-e", c)]],
                stdin=save.stdout, capture_output=True, text=True, check=False,
            )  # fmt: skip
        assert found.stdout.strip() == "0", f"a generated credential is inside the layers of {reference}"
    for where, text in texts.items():
        for credential in credentials:
            assert credential not in text, f"a generated credential appears in the {where}"


def rendered_image(rendered: Render, repository: str) -> str:
    """The image reference the chart renders for one of our repositories."""
    for obj in rendered.objects:
        if obj["kind"] not in ("Deployment", "StatefulSet", "CronJob", "Job"):
            continue
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        pod = spec["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            if container["image"].split(":")[0].endswith(repository):
                return container["image"]
    raise AssertionError(f"no container renders the image {repository}")
