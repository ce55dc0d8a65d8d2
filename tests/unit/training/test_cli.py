"""Bad input exits 2 with one line naming the problem, before anything touches MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.cli import EXIT_BAD_INPUT, main


@pytest.fixture
def untouched_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite tracking URI whose file must still not exist after the command: no run was created."""
    db = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    return db


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/no/such/file.csv", "--target", "y"], "/no/such/file.csv: no such file"),
        (["--model", "svm"], "unknown model family 'svm'"),
        (["--param", "Cx=1"], "unknown parameter(s) for logistic: Cx"),
        (["--param", "C"], "--param 'C': expected KEY=VALUE"),
        (["--test-size", "1.5"], "test_size: Input should be less than 1"),
        (["--task", "regression", "--model", "logistic"], "does not do regression"),
        (["--data", "sklearn:nope"], "unknown bundled dataset"),
    ],
)
def test_bad_input_exits_2_without_a_run(
    args: list[str], message: str, untouched_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ")
    assert message in err[-1]
    assert not untouched_store.exists()


def test_one_class_target_is_refused(
    tmp_path: Path, untouched_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "one.csv"
    data.write_text("x,y\n1,a\n2,a\n3,a\n")
    assert main(["--data", str(data), "--target", "y"]) == EXIT_BAD_INPUT
    assert "has only one class" in capsys.readouterr().err
    assert not untouched_store.exists()
