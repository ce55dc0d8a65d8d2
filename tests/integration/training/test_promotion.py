"""The trainer against a real `mlflow server`, in both topologies: register, gate, promote."""

from __future__ import annotations

from collections.abc import Callable

import mlflow.models
import pytest
from mlflow import MlflowClient

from tests.support.services import MlflowServer
from tests.support.trainer import TrainerRun

Train = Callable[..., TrainerRun]


def test_first_run_promotes_worse_run_does_not_better_run_does(
    tracking_server: MlflowServer, train: Train, model_name: str
) -> None:
    client = MlflowClient(tracking_server.uri)

    first = train(tracking_server, "--model-name", model_name, "--param", "C=0.02")
    assert first.returncode == 0, first.stderr
    assert first.promoted
    assert client.get_model_version_by_alias(model_name, "production").version == first.version

    worse = train(tracking_server, "--model-name", model_name, "--param", "C=0.001")
    assert worse.returncode == 0, worse.stderr
    assert not worse.promoted
    assert client.get_model_version_by_alias(model_name, "production").version == first.version
    rejected = client.get_model_version(model_name, worse.version)
    assert rejected.tags["mlstack.gate.decision"] == "rejected"
    assert rejected.tags["mlstack.gate.champion_version"] == first.version
    assert "alias      @production stays where it was" in worse.stdout

    better = train(tracking_server, "--model-name", model_name)
    assert better.returncode == 0, better.stderr
    assert better.promoted
    assert client.get_model_version_by_alias(model_name, "production").version == better.version
    promoted = client.get_model_version(model_name, better.version)
    assert promoted.tags["mlstack.gate.decision"] == "promoted"
    assert float(promoted.tags["mlstack.gate.candidate"]) > float(promoted.tags["mlstack.gate.champion"])
    assert promoted.tags["mlstack.dataset_fingerprint"] == better.summary["fingerprint"]  # type: ignore[index]

    versions = client.search_model_versions(f"name='{model_name}'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]


def test_run_logs_params_metrics_dataset_model_and_profile(
    tracking_server: MlflowServer, train: Train, model_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = train(
        tracking_server, "--model-name", model_name, "--data", "sklearn:wine", "--model", "random_forest"
    )
    assert run.returncode == 0, run.stderr
    client = MlflowClient(tracking_server.uri)
    logged = client.get_run(run.summary["run_id"])  # type: ignore[index]
    assert {"accuracy", "f1", "roc_auc"} <= set(logged.data.metrics)
    assert logged.data.params["model_family"] == "random_forest"
    assert logged.data.params["dataset_fingerprint"] == run.summary["fingerprint"]  # type: ignore[index]
    assert logged.data.tags["mlstack.version.scikit-learn"]
    assert [d.dataset.name for d in logged.inputs.dataset_inputs] == ["wine"]
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id, "profile")}
    assert artifacts == {"profile/feature_profile.json"}
    version = client.get_model_version(model_name, run.version)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.uri)
    info = mlflow.models.get_model_info(f"models:/{model_name}/{run.version}")
    assert info.signature is not None
    assert len(info.signature.inputs.input_names()) == 13
    assert info.saved_input_example_info is not None
    assert version.run_id == logged.info.run_id


def test_regression_and_sweep_register_the_best_candidate(
    mlflow_server: MlflowServer, train: Train, model_name: str
) -> None:
    run = train(
        mlflow_server,
        "--model-name", model_name,
        "--data", "sklearn:diabetes",
        "--model", "hist_gradient_boosting",
        "--grid", "max_iter=20,60",
        "--grid", "learning_rate=0.05,0.2",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.summary["task"] == "regression"  # type: ignore[index]
    assert {"rmse", "mae", "r2"} == set(run.summary["metrics"])  # type: ignore[index]
    assert run.summary["candidates"] == 4  # type: ignore[index]
    client = MlflowClient(mlflow_server.uri)
    parent = run.summary["run_id"]  # type: ignore[index]
    children = client.search_runs(
        [client.get_run(parent).info.experiment_id], f"tags.mlflow.parentRunId = '{parent}'"
    )
    assert len(children) == 4
    assert all("val_rmse" in child.data.metrics for child in children)
    best = min(children, key=lambda child: child.data.metrics["val_rmse"])
    chosen = {
        key: value for key, value in client.get_run(parent).data.params.items() if key.startswith("model.")
    }
    assert chosen == {key: value for key, value in best.data.params.items() if key.startswith("model.")}


def test_same_data_config_and_seed_give_the_same_metrics(
    mlflow_server: MlflowServer, train: Train, model_name: str
) -> None:
    args = (
        "--model-name",
        model_name,
        "--data",
        "sklearn:breast_cancer",
        "--model",
        "random_forest",
        "--seed",
        "7",
    )
    first, second = train(mlflow_server, *args), train(mlflow_server, *args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.summary["metrics"] == second.summary["metrics"]  # type: ignore[index]
    assert first.summary["fingerprint"] == second.summary["fingerprint"]  # type: ignore[index]
    assert not second.promoted  # an identical model is a tie, and a tie does not move the alias
