"""The trainer handed hostile files: a clear error naming the file (and column), exit 2, and nothing in
MLflow: no run, no experiment activity, no registered version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.support.services import MlflowServer, embedded_mlflow
from tests.support.trainer import run_trainer

pytestmark = pytest.mark.integration

IRIS_HEADER = "sepal_length,sepal_width,species\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    mlflow = embedded_mlflow(tmp_path_factory.mktemp("hostile-trainer"))
    mlflow.start()
    yield mlflow
    mlflow.stop()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CASES = {
    "mixed-types": (
        "data/mixed.csv",
        IRIS_HEADER + "5.1,3.5,a\n4.9,three,b\n4.7,3.2,a\n4.6,3.1,b\n",
        "data/mixed.csv: column 'sepal_width' mixes numbers and text (3 of 4 values are numbers; "
        "data row 2 is 'three')",
    ),
    "one-class": (
        "data/one-class.csv",
        IRIS_HEADER + "5.1,3.5,a\n4.9,3.0,a\n4.7,3.2,a\n",
        "data/one-class.csv: target 'species' has only one class; classification needs two",
    ),
    "duplicate-columns": (
        "data/duplicate.csv",
        "sepal_length,sepal_length,species\n5.1,3.5,a\n4.9,3.0,b\n",
        "data/duplicate.csv: duplicate column name(s): sepal_length",
    ),
    "zero-bytes": ("data/empty.csv", "", "data/empty.csv: the file is empty (0 bytes)"),
    "outside-data-dir": (
        "elsewhere/iris.csv",
        IRIS_HEADER + "5.1,3.5,a\n4.9,3.0,b\n",
        "elsewhere/iris.csv: outside the allowed data directory",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_exits_2_and_registers_nothing(server: MlflowServer, tmp_path: Path, case: str) -> None:
    relative, content, message = CASES[case]
    path = _write(tmp_path / relative, content)
    model_name, experiment = f"hostile-{case}", f"hostile-{case}"
    run = run_trainer(
        server.uri,
        "--data", str(path), "--target", "species", "--data-dir", str(tmp_path / "data"),
        "--model-name", model_name, "--experiment", experiment,
        summary_dir=tmp_path / "summaries",
    )  # fmt: skip
    assert run.returncode == 2, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, run.stderr[-2000:]
    assert message in errors[0], errors[0]
    assert str(tmp_path) in errors[0], "the message names the file by its full path"
    client = MlflowClient(server.uri)
    assert client.get_experiment_by_name(experiment) is None
    assert client.search_model_versions(f"name='{model_name}'") == []
