"""Run the chart's containers on a Docker network exactly as `helm template` renders them.

Nothing here restates a command, flag or variable of the chart: each container's image, command,
args, environment (Secrets resolved from the rendered Secrets), user, emptyDir and volume mounts come
from the rendered pod spec, and Kubernetes' `$(VAR)` expansion is applied the way the kubelet does.
Service names become network aliases, so in-cluster URLs such as http://mlstack-mlflow:5000 resolve.
"""

from __future__ import annotations

import base64
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Upstream images the chart pins -> the stand-ins this tier builds offline.
TEST_IMAGES = {
    "postgres": "mlstack-test/postgres:15",
    "minio": "mlstack-test/minio:latest",
    "mc": "mlstack-test/minio:latest",
}


def docker(*args: str, check: bool = True, timeout: float = 600) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def _expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion in command, args and env values; $$(VAR) escapes."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        text,
    )


@dataclass
class Render:
    """The objects of one `helm template` render, indexed for the translation."""

    objects: list[dict[str, Any]]
    secrets: dict[str, dict[str, str]] = field(init=False)
    config_maps: dict[str, dict[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.secrets = {
            o["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
            for o in self.objects
            if o["kind"] == "Secret"
        }
        self.config_maps = {
            o["metadata"]["name"]: o.get("data") or {} for o in self.objects if o["kind"] == "ConfigMap"
        }

    @classmethod
    def from_text(cls, text: str) -> Render:
        return cls([d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")])

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        raise KeyError(f"{kind}/{name} not rendered")

    def pod_spec(self, kind: str, name: str) -> dict[str, Any]:
        spec = self.get(kind, name)["spec"]
        if kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"]["spec"]

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        resolved: dict[str, str] = {}
        for item in container.get("env", []):
            if "value" in item:
                resolved[item["name"]] = _expand(str(item["value"]), resolved)
            elif "secretKeyRef" in item.get("valueFrom", {}):
                ref = item["valueFrom"]["secretKeyRef"]
                value = self.secrets.get(ref["name"], {}).get(ref["key"])
                if value is None and ref.get("optional"):
                    continue  # as the kubelet does: an optional reference to nothing sets nothing
                resolved[item["name"]] = self.secrets[ref["name"]][ref["key"]]
            else:
                raise AssertionError(f"unsupported env source in the chart: {item}")
        return resolved


@dataclass
class Stack:
    """Containers of one stack on one user-defined network; everything removed by `close()`."""

    render: Render
    workdir: Path
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.network = f"mlstack-{self.suffix}"
        docker("network", "create", self.network)

    def _image(self, reference: str) -> str:
        repository = reference.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        return TEST_IMAGES.get(repository, reference)

    def run_args(
        self,
        kind: str,
        name: str,
        container_name: str,
        *,
        alias: str | None,
        extra_env: dict[str, str] | None = None,
    ) -> list[str]:
        """`docker run` arguments for one container of a rendered pod (no detach/rm flags)."""
        pod = self.render.pod_spec(kind, name)
        container = next(
            c for c in pod.get("initContainers", []) + pod["containers"] if c["name"] == container_name
        )
        env = self.render.env(container) | (extra_env or {})
        security = pod["securityContext"]
        csc = container["securityContext"]
        args = ["--network", self.network, "--user", f"{security['runAsUser']}:{security['runAsGroup']}"]
        if alias:
            args += ["--network-alias", alias]
        if csc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if csc.get("capabilities", {}).get("drop") == ["ALL"]:
            args += ["--cap-drop", "ALL"]
        if csc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        claims = (
            {
                t["metadata"]["name"]
                for t in self.render.get(kind, name)["spec"].get("volumeClaimTemplates", [])
            }
            if kind == "StatefulSet"
            else set()
        )
        for mount in container.get("volumeMounts", []):
            source = volumes.get(mount["name"])
            if mount["name"] in claims:
                volume = f"{name}-{mount['name']}-{self.suffix}"
                if volume not in self.volumes:
                    docker("volume", "create", volume)
                    self.volumes.append(volume)
                args += ["-v", f"{volume}:{mount['mountPath']}"]
            elif source and "emptyDir" in source:
                # An anonymous volume, like a disk-backed emptyDir: writable by the pod's user. (A
                # Docker tmpfs over a directory the image already has takes that directory's mode
                # with root as owner, which an emptyDir never does.)
                args += ["--mount", f"type=volume,destination={mount['mountPath']}"]
            elif source and "configMap" in source:
                folder = self.workdir / f"{source['configMap']['name']}-{self.suffix}"
                folder.mkdir(parents=True, exist_ok=True)
                for key, value in self.render.config_maps[source["configMap"]["name"]].items():
                    (folder / key).write_text(value)
                    (folder / key).chmod(0o644)
                folder.chmod(0o755)
                args += ["-v", f"{folder}:{mount['mountPath']}:ro"]
            else:
                raise AssertionError(f"unsupported volume for {container_name}: {source}")
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        image = self._image(container["image"])
        command = [_expand(part, env) for part in container.get("command", [])]
        rest = [_expand(part, env) for part in container.get("args", [])]
        if command:
            args += ["--entrypoint", command[0], image, *command[1:], *rest]
        else:
            args += [image, *rest]
        return args

    def start(
        self,
        kind: str,
        name: str,
        container_name: str,
        *,
        alias: str | None = None,
        publish: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        """Start a long-running container; returns its Docker name."""
        cname = f"{container_name}-{self.suffix}"
        args = self.run_args(kind, name, container_name, alias=alias, extra_env=extra_env)
        ports = ["-p", f"127.0.0.1::{publish}"] if publish else []
        docker("run", "-d", "--name", cname, *ports, *args)
        self.containers.append(cname)
        return cname

    def run_once(
        self,
        kind: str,
        name: str,
        container_name: str,
        *,
        extra_env: dict[str, str] | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess:
        """Run a Job-like container to completion (removed afterwards)."""
        args = self.run_args(kind, name, container_name, alias=None, extra_env=extra_env)
        return subprocess.run(
            ["docker", "run", "--rm", *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def url(self, cname: str, port: int) -> str:
        host_port = docker("port", cname, str(port)).splitlines()[0].rsplit(":", 1)[1]
        return f"http://127.0.0.1:{host_port}"

    def logs(self, cname: str) -> str:
        return docker("logs", cname, check=False)

    def close(self) -> None:
        for cname in self.containers:
            docker("rm", "-f", "-v", cname, check=False)
        for volume in self.volumes:
            docker("volume", "rm", "-f", volume, check=False)
        docker("network", "rm", self.network, check=False)
