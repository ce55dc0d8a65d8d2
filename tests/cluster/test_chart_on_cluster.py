"""The chart against a real control plane with kwok nodes (see conftest.py for what is simulated).

Each profile charts/mlstack/ci/*-values.yaml is installed as release `mlstack` in its own namespace and
taken through install, hooks, a trainer Job, upgrade, helm test and uninstall, in that order.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.cluster

RELEASE = "mlstack"
CHART = Path(os.environ.get("MLSTACK_TEST_CHART", Path(__file__).resolve().parents[2] / "charts" / "mlstack"))
PROFILES = sorted((CHART / "ci").glob("*-values.yaml")) if (CHART / "ci").is_dir() else []
HELM_TIMEOUT = "4m"


def run(env: dict[str, str], *cmd: str, stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout[-2000:]}"
        )
    return proc.stdout


def kube_json(env: dict[str, str], namespace: str, *args: str) -> dict:
    return json.loads(run(env, "kubectl", "-n", namespace, "get", *args, "-o", "json"))


def ts(value: str) -> datetime:
    """RFC 3339 with or without fractional seconds (helm writes nanoseconds, Kubernetes whole seconds)."""
    match = re.fullmatch(r"([^.]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", value)
    assert match, f"not an RFC 3339 time: {value!r}"
    head, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(
        f"{head}.{(fraction or '0')[:6]:0<6}+00:00"
        if zone == "Z"
        else f"{head}.{(fraction or '0')[:6]:0<6}{zone}"
    )
    return parsed.astimezone(UTC)


def release_record(env: dict[str, str], namespace: str, revision: int) -> dict:
    """Helm's own record of a revision (the release Secret: base64 of gzipped JSON)."""
    secret = kube_json(env, namespace, "secret", f"sh.helm.release.v1.{RELEASE}.v{revision}")
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return json.loads(gzip.decompress(raw))


def manifest_objects(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict) and doc.get("kind")]


@dataclass
class Release:
    namespace: str
    profile: Path
    env: dict[str, str]
    install: subprocess.CompletedProcess | None = None
    install_seconds: float = 0.0
    notes: dict = field(default_factory=dict)

    def helm(self, *args: str, check: bool = True) -> str:
        return run(self.env, "helm", "-n", self.namespace, *args, check=check)

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        return run(self.env, "kubectl", "-n", self.namespace, *args, stdin=stdin, check=check)

    def get(self, *args: str) -> dict:
        return kube_json(self.env, self.namespace, *args)

    def require_installed(self) -> None:
        if self.install is None or self.install.returncode != 0:
            pytest.fail(f"helm install of {self.profile.name} failed; see test_install_waits_for_everything")

    def manifest(self) -> list[dict]:
        return manifest_objects(self.helm("get", "manifest", RELEASE))


@pytest.fixture(scope="class", params=PROFILES, ids=[p.name.removesuffix("-values.yaml") for p in PROFILES])
def release(request: pytest.FixtureRequest, cluster_env: dict[str, str]) -> Release:
    profile: Path = request.param
    namespace = f"p-{profile.name.removesuffix('-values.yaml')}"[:60]
    rel = Release(namespace=namespace, profile=profile, env=cluster_env)
    t0 = time.monotonic()
    rel.install = subprocess.run(
        [
            "helm",
            "install",
            RELEASE,
            str(CHART),
            "-n",
            namespace,
            "--create-namespace",
            "-f",
            str(profile),
            "--wait",
            "--wait-for-jobs",
            "--timeout",
            HELM_TIMEOUT,
        ],
        env=cluster_env,
        capture_output=True,
        text=True,
        check=False,
    )
    rel.install_seconds = time.monotonic() - t0
    yield rel
    run(cluster_env, "helm", "-n", namespace, "uninstall", RELEASE, "--wait", check=False)
    run(cluster_env, "kubectl", "delete", "namespace", namespace, "--wait=false", check=False)


def _workloads_ready(rel: Release) -> list[str]:
    """Names of Deployments/StatefulSets of the release that are not fully ready (empty when all are)."""
    pending = []
    for obj in rel.manifest():
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        live = rel.get(obj["kind"].lower(), obj["metadata"]["name"])
        want = live["spec"].get("replicas", 1)
        if live.get("status", {}).get("readyReplicas", 0) < want:
            pending.append(f"{obj['kind']}/{obj['metadata']['name']}")
    return pending


@pytest.mark.skipif(not PROFILES, reason=f"no values profiles under {CHART / 'ci'} yet")
@pytest.mark.timeout(900)
class TestChartLifecycle:
    def test_install_waits_for_everything(self, release: Release) -> None:
        assert release.install is not None
        assert release.install.returncode == 0, (
            f"helm install --wait --wait-for-jobs failed after {release.install_seconds:.0f}s:\n"
            f"{release.install.stderr}\n" + release.kubectl("get", "all,pvc,events", check=False)[-4000:]
        )
        status = json.loads(release.helm("status", RELEASE, "-o", "json"))
        assert status["info"]["status"] == "deployed"
        kinds = {(o["kind"], o["metadata"]["name"]) for o in release.manifest()}
        assert ("CronJob", f"{RELEASE}-trainer") in kinds
        assert ("Deployment", f"{RELEASE}-api") in kinds
        assert _workloads_ready(release) == []

    def test_hooks_run_in_order_before_the_workloads(self, release: Release) -> None:
        release.require_installed()
        record = release_record(release.env, release.namespace, 1)
        hooks = [
            h
            for h in record.get("hooks") or []
            if "pre-install" in h.get("events", []) or "post-install" in h.get("events", [])
        ]
        assert hooks, "the chart has no install hooks (the DESIGN wants migrations before new pods start)"
        for hook in hooks:
            assert hook["last_run"]["phase"] == "Succeeded", hook
        for event in ("pre-install", "post-install"):
            ran = [h for h in hooks if event in h["events"]]
            # helm runs hooks by weight, then by kind and name; each must finish before the next starts.
            ran.sort(key=lambda h: ts(h["last_run"]["started_at"]))
            weights = [h.get("weight", 0) for h in ran]
            assert weights == sorted(weights), f"{event} hooks ran out of weight order: {ran}"
            for before, after in itertools.pairwise(ran):
                assert ts(before["last_run"]["completed_at"]) <= ts(after["last_run"]["started_at"])
        workloads = [
            release.get(o["kind"].lower(), o["metadata"]["name"])
            for o in release.manifest()
            if o["kind"] in ("Deployment", "StatefulSet")
        ]
        created = [ts(w["metadata"]["creationTimestamp"]) for w in workloads]
        for hook in hooks:
            done = ts(hook["last_run"]["completed_at"]).replace(microsecond=0)
            started = ts(hook["last_run"]["started_at"]).replace(microsecond=0)
            if "pre-install" in hook["events"]:
                assert all(c >= done for c in created), f"{hook['name']} finished after workloads existed"
            else:
                assert all(c <= started for c in created), f"{hook['name']} started before workloads"

    def test_trainer_job_from_cronjob(self, release: Release) -> None:
        release.require_installed()
        cron = release.get("cronjob", f"{RELEASE}-trainer")
        schedule = ((yaml.safe_load(release.profile.read_text()) or {}).get("trainer") or {}).get("schedule")
        # Without a schedule the CronJob is only a template and stays suspended; a schedule un-suspends it.
        assert cron["spec"].get("suspend") is (not schedule), cron["spec"]
        release.kubectl("create", "job", "train-1", f"--from=cronjob/{RELEASE}-trainer")
        job = release.get("job", "train-1")
        want = [c["image"] for c in cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]]
        assert [c["image"] for c in job["spec"]["template"]["spec"]["containers"]] == want
        # kwok completes the Job's pod (simulated exit 0); the Job controller then marks it Complete.
        release.kubectl("wait", "--for=condition=complete", "job/train-1", "--timeout=90s")

    def test_upgrade_keeps_generated_secrets(self, release: Release) -> None:
        release.require_installed()

        def secrets() -> dict[str, dict]:
            items = release.get("secrets")["items"]
            return {
                s["metadata"]["name"]: s.get("data", {})
                for s in items
                if s.get("type") != "helm.sh/release.v1"
            }

        before = secrets()
        generated = {o["metadata"]["name"] for o in release.manifest() if o["kind"] == "Secret"}
        if not generated:
            # A profile with only existing Secrets (external backends): the release must create none.
            assert not [n for n in before if n.startswith(f"{RELEASE}-")], before
        else:
            assert generated <= set(before), f"generated Secrets {generated} missing before the upgrade"
        release.helm(
            "upgrade",
            RELEASE,
            str(CHART),
            "-f",
            str(release.profile),
            "--wait",
            "--wait-for-jobs",
            "--timeout",
            HELM_TIMEOUT,
        )
        after = secrets()
        for name, data in before.items():
            assert after.get(name) == data, f"Secret {name} changed across helm upgrade"
        status = json.loads(release.helm("status", RELEASE, "-o", "json"))
        assert status["version"] == 2 and status["info"]["status"] == "deployed"
        assert _workloads_ready(release) == []

    def test_helm_test_creates_its_pods(self, release: Release) -> None:
        release.require_installed()
        out = release.helm("test", RELEASE, "--timeout", "2m")
        status = json.loads(release.helm("status", RELEASE, "-o", "json"))
        record = release_record(release.env, release.namespace, status["version"])
        tests = [h for h in record.get("hooks") or [] if "test" in h.get("events", [])]
        assert tests, f"the chart defines no helm test hooks:\n{out}"
        for hook in tests:
            # helm created the pod and saw it succeed (the success is kwok's simulation).
            assert hook["kind"] == "Pod" and hook["last_run"]["phase"] == "Succeeded", hook

    def test_uninstall_leaves_only_kept_pvcs(self, release: Release) -> None:
        release.require_installed()
        objects = release.manifest()
        keep: set[str] = set()
        for obj in objects:
            meta = obj["metadata"]
            if (
                obj["kind"] == "PersistentVolumeClaim"
                and (meta.get("annotations") or {}).get("helm.sh/resource-policy") == "keep"
            ):
                keep.add(meta["name"])
            if obj["kind"] == "StatefulSet":
                spec = obj["spec"]
                policy = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")
                if policy == "Retain":
                    for vct in spec.get("volumeClaimTemplates") or []:
                        for i in range(spec.get("replicas", 1)):
                            keep.add(f"{vct['metadata']['name']}-{meta['name']}-{i}")
        release.helm("uninstall", RELEASE, "--wait", "--timeout", HELM_TIMEOUT)
        deadline = time.monotonic() + 60
        while True:
            pvcs = {
                p["metadata"]["name"]
                for p in release.get("pvc")["items"]
                if not p["metadata"].get("deletionTimestamp")
            }
            if pvcs == keep or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert pvcs == keep, f"after uninstall: PVCs {sorted(pvcs)}, expected only the kept {sorted(keep)}"
        left = release.kubectl(
            "get",
            "deploy,sts,svc,cronjob,configmap",
            "-l",
            f"app.kubernetes.io/instance={RELEASE}",
            "-o",
            "name",
        )
        assert left.strip() == "", f"left behind after uninstall:\n{left}"


@pytest.mark.skipif(not PROFILES, reason=f"no values profiles under {CHART / 'ci'} yet")
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name.removesuffix("-values.yaml") for p in PROFILES])
def test_server_side_dry_run_of_every_rendered_object(profile: Path, cluster_env: dict[str, str]) -> None:
    namespace = f"dry-{profile.name.removesuffix('-values.yaml')}"[:60]
    run(cluster_env, "kubectl", "create", "namespace", namespace)
    try:
        # Render for the cluster's own version and API groups, as `helm install` would.
        server = json.loads(run(cluster_env, "kubectl", "version", "-o", "json"))["serverVersion"][
            "gitVersion"
        ]
        api_versions = run(cluster_env, "kubectl", "api-versions").split()
        flags = [f"--api-versions={v}" for v in api_versions]
        rendered = run(
            cluster_env,
            "helm",
            "template",
            RELEASE,
            str(CHART),
            "-n",
            namespace,
            "-f",
            str(profile),
            "--include-crds",
            f"--kube-version={server}",
            *flags,
        )
        objects = manifest_objects(rendered)
        assert objects, "helm template rendered nothing"
        out = run(
            cluster_env, "kubectl", "-n", namespace, "apply", "--dry-run=server", "-f", "-", stdin=rendered
        )
        assert out.count("(server dry run)") == len(objects), out
    finally:
        run(cluster_env, "kubectl", "delete", "namespace", namespace, "--wait=false", check=False)
