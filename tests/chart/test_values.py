"""values.schema.json rejects unknown keys and wrong types; impossible combinations fail with a
sentence naming the values; the schema and values table are current with the values comments."""

import subprocess
import sys

import pytest

from tests.chart.conftest import REPO, render_error


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"api": {"replica": 3}}, "at '/api': additional properties 'replica' not allowed"),
        ({"api": {"replicas": "three"}}, "at '/api/replicas': got string, want integer"),
        ({"api": {"replicas": 0}}, "at '/api/replicas'"),
        ({"global": {"image": {"pullPolicy": "Sometimes"}}}, "at '/global/image/pullPolicy'"),
        ({"trainer": {"config": {"model": "xgboost"}}}, "at '/trainer/config/model'"),
        ({"trainer": {"config": {"test_size": 1.5}}}, "at '/trainer/config/test_size'"),
        (
            {"postgresql": {"persistence": {"whenDeleted": "Keep"}}},
            "at '/postgresql/persistence/whenDeleted'",
        ),
        ({"monitorin": {}}, "additional properties 'monitorin' not allowed"),
    ],
)
def test_schema_rejects_bad_values(values, expected):
    assert expected in render_error(values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"global": {"externalDatabase": {"host": "db"}}},
            "global.externalDatabase.host is set (db) but postgresql.enabled is true",
        ),
        (
            {"postgresql": {"enabled": False}},
            "postgresql.enabled is false but global.externalDatabase.host is empty",
        ),
        (
            {"postgresql": {"enabled": False}, "global": {"externalDatabase": {"host": "db"}}},
            "global.externalDatabase.host is set but global.database.existingSecret is empty",
        ),
        (
            {"global": {"externalS3": {"endpoint": "https://s3"}}},
            "global.externalS3.endpoint is set (https://s3) but minio.enabled is true",
        ),
        ({"minio": {"enabled": False}}, "minio.enabled is false but global.externalS3.endpoint is empty"),
        (
            {"minio": {"enabled": False}, "global": {"externalS3": {"endpoint": "https://s3"}}},
            "global.externalS3.endpoint is set but global.objectStore.existingSecret is empty",
        ),
        (
            {"mlflow": {"enabled": False}},
            "api.enabled or trainer.enabled is true but mlflow.enabled is false",
        ),
    ],
)
def test_impossible_combinations_fail_naming_the_values(values, expected):
    assert expected in render_error(values)


def test_generated_schema_and_values_table_are_current():
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-chart-docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_every_documented_key_is_in_the_values_table():
    readme = (REPO / "charts" / "mlstack" / "README.md").read_text()
    for key in (
        "global.modelName",
        "api.autoscaling.maxReplicas",
        "trainer.config.model",
        "mlflow.extraAllowedHosts",
    ):
        assert f"| `{key}` |" in readme
