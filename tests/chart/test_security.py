"""Every pod of every profile under the restricted Pod Security Standard, with requests and limits,
no service account token, and no generated credential anywhere but in a Secret."""

import base64

import pytest

from tests.chart.conftest import PROFILES, containers, pod_spec, render

POD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")
# Everything optional switched on, so every pod and container is checked.
EVERYTHING = {
    "api": {"apiKey": {"enabled": True}},
    "mlflow": {"auth": {"enabled": True}},
    "trainer": {"dataVolume": {"existingClaim": "data"}},
}


def _renders():
    for profile in PROFILES:
        yield pytest.param(profile, id=profile.name.removesuffix("-values.yaml"))


@pytest.mark.parametrize("profile", _renders())
def test_every_pod_meets_the_restricted_standard(profile):
    out = render(EVERYTHING, profile=profile)
    pods = [o for o in out.objects if o["kind"] in POD_KINDS]
    assert pods
    for obj in pods:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = pod_spec(obj)
        assert spec["automountServiceAccountToken"] is False, where
        ctx = spec["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] >= 10000, where
        assert ctx["seccompProfile"]["type"] == "RuntimeDefault", where
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), where
        for c in containers(obj):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, f"{where}/{c['name']}"
            assert sc["readOnlyRootFilesystem"] is True, f"{where}/{c['name']}"
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], (
                f"{where}/{c['name']}"
            )
            assert sc.get("privileged") is False, f"{where}/{c['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{where}/{c['name']} {bound}"
            # Anything that writes gets an emptyDir or a volume: /tmp at least.
            assert "/tmp" in {m["mountPath"] for m in c.get("volumeMounts", [])}, f"{where}/{c['name']}"
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, where


@pytest.mark.parametrize("profile", _renders())
def test_generated_credentials_appear_only_in_secrets(profile):
    out = render(EVERYTHING, profile=profile)
    secrets = [o for o in out.objects if o["kind"] == "Secret"]
    # Usernames ("api", "trainer") sit beside the passwords but are not secret: they are in values.yaml.
    values = {
        base64.b64decode(v).decode()
        for s in secrets
        for k, v in s.get("data", {}).items()
        if not k.endswith("username")
    }
    for obj in out.objects:
        if obj["kind"] == "Secret":
            continue
        text = str(obj)
        for value in values:
            assert value not in text, (
                f"a generated credential appears in {obj['kind']}/{obj['metadata']['name']}"
            )
    # Credentials reach containers only through secretKeyRef, never as literal values.
    for obj in out.objects:
        if obj["kind"] not in POD_KINDS:
            continue
        for c in containers(obj):
            for e in c.get("env", []):
                if any(word in e["name"] for word in ("PASSWORD", "SECRET", "API_KEY", "ACCESS_KEY")):
                    assert "secretKeyRef" in e.get("valueFrom", {}), f"{obj['metadata']['name']}: {e['name']}"
