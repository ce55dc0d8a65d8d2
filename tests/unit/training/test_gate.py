from __future__ import annotations

import pytest

from training.evaluate import PRIMARY
from training.gate import decide

F1 = PRIMARY["classification"]
RMSE = PRIMARY["regression"]


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "min_improvement", "promote", "reason"),
    [
        (F1, 0.80, None, 0.0, True, "no version is behind the alias yet"),
        (F1, 0.90, 0.80, 0.0, True, "better: f1 0.9 vs 0.8"),
        (F1, 0.80, 0.80, 0.0, False, "not better by 0"),
        (F1, 0.70, 0.80, 0.0, False, "improvement -0.1"),
        (F1, 0.82, 0.80, 0.05, False, "not better by 0.05"),
        (F1, 0.86, 0.80, 0.05, True, "improvement 0.06 >= 0.05"),
        (RMSE, 40.0, 50.0, 0.0, True, "better: rmse 40 vs 50"),
        (RMSE, 55.0, 50.0, 0.0, False, "improvement -5"),
    ],
)
def test_gate_decisions(metric, candidate, champion, min_improvement, promote, reason) -> None:  # type: ignore[no-untyped-def]
    champion_version = None if champion is None else "3"
    decision = decide(metric, candidate, champion, champion_version, min_improvement)
    assert decision.promote is promote
    assert reason in decision.reason


def test_champion_without_the_metric_is_replaced() -> None:
    decision = decide(F1, 0.5, None, "4", 0.0, basis="logged-metric")
    assert decision.promote
    assert decision.reason == "version 4 has no f1 to compare with"


def test_decision_tags_record_the_compared_figures() -> None:
    tags = decide(F1, 0.9, 0.8, "2", 0.01).as_tags()
    assert tags["mlstack.gate.decision"] == "promoted"
    assert tags["mlstack.gate.candidate"] == "0.9"
    assert tags["mlstack.gate.champion"] == "0.8"
    assert tags["mlstack.gate.champion_version"] == "2"
    assert tags["mlstack.gate.min_improvement"] == "0.01"
    assert tags["mlstack.gate.basis"] == "same-holdout"
