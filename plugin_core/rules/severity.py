"""How much the adult's record weighs on the children: the severity of the consider prompts.

Each indicator carries a weight (info, warning or critical) from the trust's code lists, or the
default for its kind below when a host named the kind without one. The rule:

- no risk indicator: info;
- otherwise the highest weight among the risk indicators;
- raised to critical when two or more different kinds of the toxic trio (substance misuse,
  mental ill health, domestic abuse) each weigh warning or more: together they multiply risk;
- always critical with a child protection flag, whatever weight a list gives it.

Pregnancy, a pregnancy that has ended and a recent birth say who the children are, not how much
risk they face, so they never raise severity. An entry weighing info (anxiety alone) is recorded
and named, but neither raises severity nor counts towards the trio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugin_core.model import IndicatorKind, RiskIndicator, Severity

TOXIC_TRIO = frozenset(
    {IndicatorKind.SUBSTANCE_MISUSE, IndicatorKind.MENTAL_HEALTH, IndicatorKind.DOMESTIC_ABUSE}
)
CHILDREN_KINDS = frozenset(
    {IndicatorKind.PREGNANCY, IndicatorKind.PREGNANCY_ENDED, IndicatorKind.POSTNATAL}
)
"""Kinds that say whether there is an unborn child or a newborn; they carry no weight of risk."""


@dataclass(frozen=True, slots=True)
class KindDefault:
    """What an indicator of a kind weighs, and why, when no code list says more."""

    weight: Severity
    rationale: str
    label: str


DEFAULTS: dict[IndicatorKind, KindDefault] = {
    IndicatorKind.SUBSTANCE_MISUSE: KindDefault(
        Severity.WARNING,
        "Parental substance misuse can leave children unsupervised, neglected or exposed to harm.",
        "substance misuse",
    ),
    IndicatorKind.MENTAL_HEALTH: KindDefault(
        Severity.WARNING,
        "Named by the host without a listed code: weighed as mental illness that can impair care.",
        "mental ill health",
    ),
    IndicatorKind.DOMESTIC_ABUSE: KindDefault(
        Severity.WARNING,
        "Children in a home with abuse are harmed by witnessing it and are at risk themselves.",
        "domestic abuse",
    ),
    IndicatorKind.CHILD_PROTECTION: KindDefault(
        Severity.CRITICAL,
        "A child in the family already has a child protection plan: children's services must know.",
        "child protection flag",
    ),
    IndicatorKind.PREGNANCY: KindDefault(
        Severity.INFO, "An unborn child to consider.", "pregnancy"
    ),
    IndicatorKind.PREGNANCY_ENDED: KindDefault(
        Severity.INFO, "No unborn child: the pregnancy has ended.", "pregnancy that has ended"
    ),
    IndicatorKind.POSTNATAL: KindDefault(
        Severity.INFO, "A newborn is implied even when no child is recorded.", "recent birth"
    ),
    IndicatorKind.OTHER: KindDefault(Severity.INFO, "Not a recognised risk factor.", "other entry"),
}

NO_RISK_REASON = "No risk factors in the record"
_MAX_NAMED = 4


@dataclass(frozen=True, slots=True)
class Weighing:
    """A severity and the plain reason for it, for a prompt's ``severity_reason``."""

    severity: Severity
    reason: str


def weight_of(indicator: RiskIndicator) -> Severity:
    """The indicator's weight; the default for its kind when it was never given one."""
    return indicator.weight or DEFAULTS[indicator.kind].weight


def label_of(indicator: RiskIndicator) -> str:
    return indicator.label or DEFAULTS[indicator.kind].label


def is_risk(indicator: RiskIndicator) -> bool:
    """True for indicators that bear on severity.

    An ``other`` indicator counts only when a list or host gave it a weight on purpose.
    """
    if indicator.kind in CHILDREN_KINDS:
        return False
    return indicator.kind is not IndicatorKind.OTHER or indicator.weight is not None


def weigh(indicators: Sequence[RiskIndicator]) -> Weighing:
    """The severity the record gives the consider-children and consider-unborn prompts."""
    risks = [i for i in indicators if is_risk(i)]
    if not risks:
        return Weighing(Severity.INFO, NO_RISK_REASON)
    protection = [i for i in risks if i.kind is IndicatorKind.CHILD_PROTECTION]
    serious = [i for i in risks if weight_of(i).rank >= Severity.WARNING.rank]
    trio = {i.kind for i in serious if i.kind in TOXIC_TRIO}
    highest = max((weight_of(i) for i in risks), key=lambda s: s.rank)
    combined = len(trio) >= 2
    severity = Severity.CRITICAL if protection or combined else highest
    if severity is Severity.INFO:
        return Weighing(severity, f"{_names(risks)} in the record; no higher risk factor")
    if severity is Severity.CRITICAL:
        drivers = protection + sorted(
            (i for i in serious if i.kind is not IndicatorKind.CHILD_PROTECTION),
            key=lambda i: -weight_of(i).rank,
        )
        only_together = combined and not protection and highest is not Severity.CRITICAL
        together = " together" if only_together else ""
        return Weighing(severity, f"{_names(drivers)}{together} in the record")
    drivers = [i for i in risks if weight_of(i) is severity]
    return Weighing(severity, f"{_names(drivers)} in the record")


def _names(indicators: Sequence[RiskIndicator]) -> str:
    """Labels joined as "Psychosis and alcohol misuse": each once, in order, first letter capital."""
    labels = list(dict.fromkeys(label_of(i) for i in indicators))
    if len(labels) > _MAX_NAMED:
        labels = [*labels[: _MAX_NAMED - 1], f"{len(labels) - _MAX_NAMED + 1} more"]
    text = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    return text[:1].upper() + text[1:]
