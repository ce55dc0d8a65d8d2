from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from training.errors import InputError
from training.settings import load_settings


def test_flags_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(
        "data: sklearn:wine\nmodel: random_forest\nseed: 1\nalias: champion\nparams: {n_estimators: 5}\n"
    )
    monkeypatch.setenv("MLSTACK_MODEL", "gradient_boosting")
    monkeypatch.setenv("MLSTACK_SEED", "2")
    settings = load_settings({"seed": 3}, config)
    assert settings.data == "sklearn:wine"  # file
    assert settings.model == "gradient_boosting"  # environment over file
    assert settings.seed == 3  # flag over environment
    assert settings.model_alias == "champion"  # the file may say `alias`
    assert settings.params == {"n_estimators": 5}


def test_environment_alias_and_json_params(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSTACK_MODEL_ALIAS", "prod")
    monkeypatch.setenv("MLSTACK_PARAMS", '{"C": 0.5}')
    settings = load_settings({}, None)
    assert settings.model_alias == "prod"
    assert settings.params == {"C": 0.5}


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("data: sklearn:iris\nlearning_rate: 0.1\n")
    with pytest.raises(ValidationError, match="learning_rate"):
        load_settings({}, config)


@pytest.mark.parametrize(
    ("content", "message"), [("[1, 2]", "must hold a mapping"), ("a: [", "not valid YAML")]
)
def test_bad_config_files(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(content)
    with pytest.raises(InputError, match=message):
        load_settings({}, config)


def test_missing_config_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.yaml"):
        load_settings({}, tmp_path / "nope.yaml")
