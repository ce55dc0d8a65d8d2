"""Every profile under charts/mlstack/ci: helm lint --strict, kubeconform (strict, pinned Kubernetes
schemas, no network) and kube-score with only the exceptions justified in kube-score.ignore."""

import subprocess

import pytest

from tests.chart.conftest import CHART, PROFILES, render
from tests.support.pins import CACHE, tool, versions

IDS = [p.name.removesuffix("-values.yaml") for p in PROFILES]


def test_profiles_cover_the_scenarios():
    assert set(IDS) >= {"default", "kind", "external", "production"}


@pytest.mark.parametrize("profile", PROFILES, ids=IDS)
def test_helm_lint_strict(profile):
    done = subprocess.run(
        [tool("helm"), "lint", "--strict", str(CHART), "-f", str(profile)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("profile", PROFILES, ids=IDS)
def test_rendered_objects_are_valid_kubernetes(profile):
    schemas = CACHE / "kube-schemas" / f"{versions()['KUBERNETES_VERSION']}-standalone-strict"
    out = render(profile=profile)
    done = subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-schema-location",
            f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            "-",
        ],
        input=out.text,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Valid: {len(out.objects)}, Invalid: 0, Errors: 0, Skipped: 0" in done.stdout


def _ignored_tests() -> list[str]:
    lines = (CHART / "kube-score.ignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_every_kube_score_exception_is_justified():
    text = (CHART / "kube-score.ignore").read_text()
    for test_id in _ignored_tests():
        before = text.split(test_id)[0].rstrip().splitlines()
        assert before and before[-1].startswith("#"), f"{test_id} has no comment saying why it is skipped"


@pytest.mark.parametrize("profile", PROFILES, ids=IDS)
def test_kube_score_has_no_findings(profile):
    ignores = [f"--ignore-test={t}" for t in _ignored_tests()]
    done = subprocess.run(
        [tool("kube-score"), "score", *ignores, "--output-format", "ci", "--exit-one-on-warning", "-"],
        input=render(profile=profile).text,
        capture_output=True,
        text=True,
    )
    findings = [line for line in done.stdout.splitlines() if not line.startswith(("[OK]", "[SKIPPED]"))]
    assert done.returncode == 0 and not findings, "\n".join(findings)
