"""Bad input leaves nothing behind; an unreachable server is retried then reported; failed runs register nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.support.processes import free_port
from tests.support.services import MinioServer, MlflowServer
from tests.support.trainer import TrainerRun, run_trainer

Train = Callable[..., TrainerRun]


def _runs_in(client: MlflowClient, experiment: str) -> int:
    found = client.get_experiment_by_name(experiment)
    return 0 if found is None else len(client.search_runs([found.experiment_id], run_view_type=3))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/does/not/exist.csv", "--target", "y"], "no such file"),
        (["--model", "svm"], "unknown model family 'svm'"),
        (["--param", "n_estimators=3"], "unknown parameter(s) for logistic: n_estimators"),
        (["--data", "sklearn:iris", "--target", "species"], "target column 'species' not found"),
    ],
)
def test_bad_input_exits_2_and_creates_no_run(
    mlflow_server: MlflowServer, train: Train, model_name: str, args: list[str], message: str
) -> None:
    experiment = f"bad-input-{model_name}"
    run = train(mlflow_server, "--model-name", model_name, "--experiment", experiment, *args)
    assert run.returncode == 2
    assert message in run.stderr
    assert len([line for line in run.stderr.splitlines() if line.startswith("error:")]) == 1
    client = MlflowClient(mlflow_server.uri)
    assert _runs_in(client, experiment) == 0
    assert client.search_model_versions(f"name='{model_name}'") == []


def test_empty_dataset_file_exits_2(
    mlflow_server: MlflowServer, train: Train, tmp_path: Path, model_name: str
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    run = train(mlflow_server, "--model-name", model_name, "--data", str(empty), "--target", "y")
    assert run.returncode == 2
    assert "empty.csv: the file is empty (0 bytes)" in run.stderr


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    run = run_trainer(
        uri, "--mlflow-wait-seconds", "3", summary_dir=tmp_path, env={"MLSTACK_LOG_LEVEL": "INFO"}
    )
    assert run.returncode == 1
    assert f"error: MLflow tracking server at {uri} is unreachable after" in run.stderr
    assert run.stderr.count('"msg": "waiting for MLflow tracking server') >= 2  # each attempt is logged


def test_failure_after_the_run_started_marks_it_failed_and_registers_nothing(
    tracking_server: MlflowServer, train: Train, model_name: str
) -> None:
    # lbfgs cannot fit an l1 penalty: each parameter is valid alone, so the run starts and fit() fails.
    experiment = f"fails-{model_name}"
    run = train(
        tracking_server, "--model-name", model_name, "--experiment", experiment, "--param", "penalty=l1"
    )
    assert run.returncode == 1
    assert "run marked FAILED, nothing registered" in run.stderr
    client = MlflowClient(tracking_server.uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]
    assert client.search_model_versions(f"name='{model_name}'") == []


def test_s3_dataset_is_read_from_minio(
    mlflow_production: MlflowServer, minio: MinioServer, train: Train, model_name: str, tmp_path: Path
) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    minio.create_bucket("datasets")
    minio.s3().put_object(Bucket="datasets", Key="wine/wine.csv", Body=frame.to_csv(index=False).encode())

    run = train(
        mlflow_production,
        "--model-name", model_name,
        "--data", "s3://datasets/wine/wine.csv",
        "--target", "cultivar",
        env=minio.client_env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    local = tmp_path / "wine.csv"
    frame.to_csv(local, index=False)
    same_rows = train(
        mlflow_production, "--model-name", model_name, "--data", str(local), "--target", "cultivar"
    )
    assert run.summary["fingerprint"] == same_rows.summary["fingerprint"]  # type: ignore[index]

    missing = train(
        mlflow_production, "--model-name", model_name, "--data", "s3://datasets/nope.csv", "--target", "x",
        env=minio.client_env,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "s3://datasets/nope.csv: NoSuchKey" in missing.stderr
