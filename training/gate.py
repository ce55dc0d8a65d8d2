"""The promotion gate: does the candidate beat the version behind the alias by enough to replace it?"""

from __future__ import annotations

from dataclasses import dataclass

from training.evaluate import PrimaryMetric


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided and the figures it compared; written to the version as tags."""

    promote: bool
    reason: str
    metric: str
    candidate: float
    champion: float | None
    champion_version: str | None
    min_improvement: float
    basis: str

    def as_tags(self) -> dict[str, str]:
        tags = {
            "mlstack.gate.decision": "promoted" if self.promote else "rejected",
            "mlstack.gate.reason": self.reason,
            "mlstack.gate.metric": self.metric,
            "mlstack.gate.candidate": f"{self.candidate:.6g}",
            "mlstack.gate.min_improvement": f"{self.min_improvement:g}",
            "mlstack.gate.basis": self.basis,
        }
        if self.champion is not None:
            tags["mlstack.gate.champion"] = f"{self.champion:.6g}"
        if self.champion_version is not None:
            tags["mlstack.gate.champion_version"] = self.champion_version
        return tags


def decide(
    metric: PrimaryMetric,
    candidate: float,
    champion: float | None,
    champion_version: str | None,
    min_improvement: float,
    basis: str = "same-holdout",
) -> GateDecision:
    """Promote when there is no champion, or the candidate is strictly better by at least `min_improvement`."""

    def decision(promote: bool, reason: str) -> GateDecision:
        return GateDecision(
            promote, reason, metric.name, candidate, champion, champion_version, min_improvement, basis
        )

    if champion_version is None:
        return decision(True, "no version is behind the alias yet")
    if champion is None:
        return decision(True, f"version {champion_version} has no {metric.name} to compare with")
    gain = metric.improvement(candidate, champion)
    figures = f"{metric.name} {candidate:.6g} vs {champion:.6g} (v{champion_version}, {basis})"
    # A tie never moves the alias: an equal model is not worth a reload across the fleet.
    if gain > 0 and gain >= min_improvement:
        return decision(True, f"better: {figures}, improvement {gain:.6g} >= {min_improvement:g}")
    return decision(False, f"not better by {min_improvement:g}: {figures}, improvement {gain:.6g}")
