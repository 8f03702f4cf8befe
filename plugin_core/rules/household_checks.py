"""What the household says against what the record says, and how to put it to the professional.

A household can be silent about a child the record implies: a child protection flag, a recent
birth, a pregnancy or the toxic trio beside an empty household (or none recorded). That is
never met with silence: the ``record-household`` prompt names what in the record suggests a
child and asks the professional to confirm who lives with the adult.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from plugin_core.model import (
    Child,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Prompt,
    PromptCode,
    Severity,
)

SUMMARY_LIMIT = 140


@dataclass(frozen=True, slots=True)
class Signal:
    """Something in the record that suggests a child, in the words the professional reads."""

    words: str
    reason: str
    critical: bool


# Most telling first: the first signal found gives the severity reason.
# Critical: a child protection flag names a child on a plan, and a recent birth names a
# newborn; with no child in the household, one of them is missing from it.
# Warning: a pregnancy or the toxic trio makes the household matter but does not say a
# child already exists.
_SIGNALS = (
    (
        IndicatorKind.CHILD_PROTECTION,
        Signal("a child protection flag", "Child protection flag in the record", critical=True),
    ),
    (
        IndicatorKind.POSTNATAL,
        Signal("a recent birth", "Recent birth in the record", critical=True),
    ),
    (IndicatorKind.PREGNANCY, Signal("a pregnancy", "Pregnancy in the record", critical=False)),
    (
        IndicatorKind.SUBSTANCE_MISUSE,
        Signal("substance misuse", "Substance misuse in the record", critical=False),
    ),
    (
        IndicatorKind.MENTAL_HEALTH,
        Signal("mental ill health", "Mental ill health in the record", critical=False),
    ),
    (
        IndicatorKind.DOMESTIC_ABUSE,
        Signal("domestic abuse", "Domestic abuse in the record", critical=False),
    ),
)


def child_signals(kinds: set[IndicatorKind], children: Sequence[Child]) -> list[Signal]:
    """What in the record suggests a child, most telling first.

    A pregnancy counts when the adult is pregnant by any route (an unborn child was derived),
    so this follows the same rule as the ``consider-unborn`` prompt.
    """
    pregnant = any(c.unborn for c in children)
    return [
        signal
        for kind, signal in _SIGNALS
        if kind in kinds or (kind is IndicatorKind.PREGNANCY and pregnant)
    ]


def record_household(
    contact: FirstContact,
    household: Sequence[HouseholdMember] | None,
    children: Sequence[Child],
    kinds: set[IndicatorKind],
    recheck_days: int,
) -> Prompt | None:
    """The ``record-household`` prompt, or None when the household is recent and plausible."""
    signals = child_signals(kinds, children)
    stale = _recorded_days_ago(contact, household, recheck_days)
    if household is None:
        return _not_recorded(signals)
    if signals and not any(not c.unborn for c in children):
        return _contradicted(signals, stale)
    if stale is not None:
        return Prompt(
            PromptCode.RECORD_HOUSEHOLD,
            Severity.INFO,
            f"Household last recorded {stale} days ago. Check who lives with the patient now.",
            severity_reason="Household record older than the re-check period",
        )
    return None


def _recorded_days_ago(
    contact: FirstContact, household: Sequence[HouseholdMember] | None, recheck_days: int
) -> int | None:
    """Days since the household was recorded, when longer ago than the re-check period."""
    if household is None:
        return None
    recorded = contact.household_recorded_at or contact.occurred_at
    # Freshness is judged at the contact, not at assessment time: a contact assessed late (a
    # queued message, a file assessed months on) did not have a stale household when it happened.
    age = contact.occurred_at - recorded
    return age.days if age > timedelta(days=recheck_days) else None


def _not_recorded(signals: list[Signal]) -> Prompt:
    ask = "Ask who lives with the patient, including any children under 18."
    if not signals:
        return Prompt(
            PromptCode.RECORD_HOUSEHOLD,
            Severity.WARNING,
            f"Household not recorded. {ask}",
            severity_reason="Household not recorded",
        )
    critical = [s for s in signals if s.critical]
    summary = _fit(
        signals, lambda shows: f"Household not recorded and the record shows {shows}. {ask}"
    )
    return Prompt(
        PromptCode.RECORD_HOUSEHOLD,
        Severity.CRITICAL if critical else Severity.WARNING,
        summary,
        f"Record shows {_listed(signals)}. Nobody has recorded who lives with the patient.",
        severity_reason=critical[0].reason if critical else "Household not recorded",
    )


def _contradicted(signals: list[Signal], stale: int | None) -> Prompt:
    critical = any(s.critical for s in signals)
    summary = _fit(
        signals,
        lambda shows: (
            f"Record shows {shows}, but the household lists no children. "
            "Confirm who lives with the patient."
        ),
    )
    detail = f"Record shows {_listed(signals)}. The household lists no one under 18"
    detail += f"; it was recorded {stale} days ago." if stale is not None else "."
    detail += " Ask who lives with the patient, and about any children living elsewhere."
    return Prompt(
        PromptCode.RECORD_HOUSEHOLD,
        Severity.CRITICAL if critical else Severity.WARNING,
        summary,
        detail,
        severity_reason=signals[0].reason,
    )


def _listed(signals: Sequence[Signal]) -> str:
    words = [s.words for s in signals]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _fit(signals: list[Signal], sentence: Callable[[str], str]) -> str:
    """The sentence naming as many signals as fit in a summary, most telling first."""
    for count in range(len(signals), 0, -1):
        shown = _listed(signals[:count])
        if count < len(signals):
            shown = f"{', '.join(s.words for s in signals[:count])} and more"
        text = sentence(shown)
        if len(text) <= SUMMARY_LIMIT:
            return text
    return sentence(signals[0].words)[:SUMMARY_LIMIT]


# The consider-children wording ---------------------------------------------------------------


def children_summary(born: Sequence[Child]) -> str:
    """The consider-children summary: who is at home and elsewhere, and whose age is not known.

    Children whose age is not known are counted apart, and the professional is asked to
    confirm their ages, so "1 child under 18" is never said of someone who may be 30.
    """
    home = [c for c in born if c.lives_with_patient is not False]
    away = len(born) - len(home)
    unknown = [c for c in home if not c.age_known]
    known = len(home) - len(unknown)
    any_unknown = any(not c.age_known for c in born)
    parts = []
    if known:
        parts.append(f"{known} {_children(known)} under 18")
    if unknown:
        if known:
            noun = ""
        elif all(c.relationship.is_child_kind for c in unknown):
            noun = f" {_children(len(unknown))}"
        else:
            noun = " person" if len(unknown) == 1 else " people"
        parts.append(f"{len(unknown)}{noun} of unknown age")
    if home:
        where = " and ".join(parts) + " in the household"
        where += f" and {away} living elsewhere" if away else ""
    elif any_unknown:
        where = f"{away} {_children(away)} under 18 or of unknown age living elsewhere"
    else:
        where = f"{away} {_children(away)} under 18 living elsewhere"
    for action in (
        "Confirm ages, consider their welfare and record your decision."
        if any_unknown
        else "Consider their welfare and record your decision.",
        "Confirm ages and record your decision.",
    ):
        summary = f"{where}. {action}"
        if len(summary) <= SUMMARY_LIMIT:
            return summary
    return summary[:SUMMARY_LIMIT]


def unknown_age_detail(born: Sequence[Child]) -> str:
    """The consider-children detail about ages nobody knows; empty when every age is known."""
    count = sum(1 for c in born if not c.age_known)
    if not count:
        return ""
    return f"Age not known for {count}: ask their date of birth and record it."


def _children(count: int) -> str:
    return "child" if count == 1 else "children"
