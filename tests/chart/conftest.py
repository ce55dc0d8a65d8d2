"""Chart unit tests: pytest over `helm template` output (helm at the pinned version, no cluster)."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.pins import REPO, tool, versions

CHART = REPO / "charts" / "mlstack"
RELEASE = "mlstack"
NAMESPACE = "ml"
PROFILES = sorted((CHART / "ci").glob("*-values.yaml"))


class RenderError(Exception):
    """helm template refused the values; the message is helm's."""


@functools.lru_cache(maxsize=128)
def _render(values_json: str, profile: str | None, api_versions: tuple[str, ...]) -> str:
    cmd = [
        tool("helm"),
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        versions()["KUBERNETES_VERSION"],
    ]
    if profile:
        cmd += ["-f", profile]
    cmd += ["-f", "-"]
    cmd += [f"--api-versions={v}" for v in api_versions]
    done = subprocess.run(cmd, input=values_json, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RenderError(done.stderr.strip())
    return done.stdout


class Rendered:
    """The objects of one render, with look-ups by kind and name."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.objects = [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]

    def all(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> dict | None:
        return next((o for o in self.all(kind) if o["metadata"]["name"] == name), None)

    def get(self, kind: str, name: str) -> dict:
        obj = self.find(kind, name)
        assert obj is not None, f"no {kind}/{name} in {sorted(self.names())}"
        return obj

    def names(self) -> set[tuple[str, str]]:
        return {(o["kind"], o["metadata"]["name"]) for o in self.objects}


def render(values: dict[str, Any] | None = None, *, profile: Path | None = None, api_versions=()) -> Rendered:
    """Render the chart with `values` (a dict merged over the profile) as release `mlstack` in `ml`."""
    return Rendered(_render(json.dumps(values or {}), str(profile) if profile else None, tuple(api_versions)))


def render_error(values: dict[str, Any]) -> str:
    with pytest.raises(RenderError) as caught:
        render(values)
    return str(caught.value)


def pod_spec(obj: dict) -> dict:
    """The pod spec of a workload, Job, CronJob or bare Pod."""
    spec = obj["spec"]
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def containers(obj: dict) -> list[dict]:
    """Init containers and containers of a pod-bearing object."""
    spec = pod_spec(obj)
    return spec.get("initContainers", []) + spec["containers"]


def container(obj: dict, name: str) -> dict:
    for c in containers(obj):
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name} in {obj['kind']}/{obj['metadata']['name']}")


def env(c: dict) -> dict[str, Any]:
    """Container env as name -> value (literal) or the valueFrom mapping."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def hook(obj: dict) -> tuple[set[str], int]:
    annotations = obj["metadata"].get("annotations") or {}
    events = set(filter(None, annotations.get("helm.sh/hook", "").split(",")))
    return events, int(annotations.get("helm.sh/hook-weight", "0"))


EXTERNAL = {
    "postgresql": {"enabled": False},
    "minio": {"enabled": False},
    "global": {
        "database": {"existingSecret": "db-creds", "passwordKey": "pw"},
        "externalDatabase": {"host": "pg.example.internal", "port": 6432, "sslmode": "require"},
        "objectStore": {"existingSecret": "s3-creds", "accessKeyKey": "id", "secretKeyKey": "key"},
        "externalS3": {"endpoint": "https://s3.example.com", "region": "eu-west-1"},
    },
}
