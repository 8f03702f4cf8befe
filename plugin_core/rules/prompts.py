"""The assessment rules: which prompts a first contact raises, and how urgently.

Each prompt has one function here, so a reader finds the rule for a prompt code in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from plugin_core.model import (
    Assessment,
    AuthorityMatch,
    Child,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Prompt,
    PromptCode,
    RiskIndicator,
    Severity,
)
from plugin_core.rules.children import children_in, contact_date
from plugin_core.rules.household_checks import (
    children_summary,
    record_household,
    unknown_age_detail,
)
from plugin_core.rules.indicators import is_unclassified, settle, unclassified_codes
from plugin_core.rules.severity import weigh
from plugin_core.rules.trust_rules import TrustRules

_TRIO_WORDS = {
    IndicatorKind.SUBSTANCE_MISUSE: "substance misuse",
    IndicatorKind.MENTAL_HEALTH: "mental ill health",
    IndicatorKind.DOMESTIC_ABUSE: "domestic abuse",
}


def classify(indicators: Sequence[RiskIndicator], rules: TrustRules) -> tuple[RiskIndicator, ...]:
    """Indicators with kind, weight and reason settled by the trust's code lists.

    The kind is the lists' where the host left it open; see plugin_core/rules/indicators.py.
    """
    return tuple(settle(indicator, rules.code_lists) for indicator in indicators)


def assess(
    contact: FirstContact,
    *,
    household: Sequence[HouseholdMember] | None,
    indicators: Sequence[RiskIndicator],
    authority: AuthorityMatch,
    children: Sequence[Child],
    rules: TrustRules,
    now: datetime,
) -> Assessment:
    """Build the assessment for one contact from facts already gathered through the hooks."""
    unclassified = unclassified_codes(indicators, rules.code_lists)
    indicators = [i for i in indicators if not is_unclassified(i, rules.code_lists)]
    kinds = {i.kind for i in indicators}
    prompts = [
        p
        for p in (
            _record_household(contact, household, children, kinds, rules),
            _consider_children(children, indicators),
            _consider_unborn(children, indicators),
            _confirm_authority(children, authority),
        )
        if p is not None
    ]
    wording = rules.wording
    prompts = [replace(p, summary=wording[p.code]) if p.code in wording else p for p in prompts]
    return Assessment(
        contact_id=contact.id,
        assessed_at=now,
        household_known=household is not None,
        children=tuple(children),
        indicators=tuple(indicators),
        prompts=tuple(prompts),
        authority=authority,
        unrecognised_relationships=unrecognised_relationships(household),
        unclassified=unclassified,
    )


def derive_children(
    contact: FirstContact,
    household: Sequence[HouseholdMember] | None,
    indicators: Sequence[RiskIndicator],
) -> tuple[Child, ...]:
    pregnant = bool(contact.pregnant) or any(i.kind is IndicatorKind.PREGNANCY for i in indicators)
    return children_in(household or (), contact_date(contact.occurred_at), pregnant=pregnant)


def unrecognised_relationships(
    household: Sequence[HouseholdMember] | None,
) -> tuple[str, ...]:
    """Relationship words in the household nobody recognised, each once, in household order."""
    words = (m.unrecognised_relationship for m in household or ())
    return tuple(dict.fromkeys(w for w in words if w))


def _record_household(
    contact: FirstContact,
    household: Sequence[HouseholdMember] | None,
    children: Sequence[Child],
    kinds: set[IndicatorKind],
    rules: TrustRules,
) -> Prompt | None:
    return record_household(contact, household, children, kinds, rules.recheck_days)


def _escalated(indicators: Sequence[RiskIndicator]) -> tuple[Severity, str, str]:
    """Severity from the indicators' weights (plugin_core/rules/severity.py), what the record shows,
    and the plain reason for the severity."""
    weighing = weigh(indicators)
    kinds = {i.kind for i in indicators}
    trio = [word for kind, word in _TRIO_WORDS.items() if kind in kinds]
    reasons = trio + (
        ["a child protection flag"] if IndicatorKind.CHILD_PROTECTION in kinds else []
    )
    if not reasons:
        shows = ""
    elif len(reasons) == 1:
        shows = f"Record shows {reasons[0]}."
    else:
        shows = f"Record shows {', '.join(reasons[:-1])} and {reasons[-1]}."
    return weighing.severity, shows, weighing.reason


def _consider_children(
    children: Sequence[Child], indicators: Sequence[RiskIndicator]
) -> Prompt | None:
    born = [c for c in children if not c.unborn]
    if not born:
        return None
    severity, why, reason = _escalated(indicators)
    summary = children_summary(born)
    detail = f"{why.strip()} {unknown_age_detail(born)}".strip()
    return Prompt(PromptCode.CONSIDER_CHILDREN, severity, summary, detail, reason)


def _consider_unborn(
    children: Sequence[Child], indicators: Sequence[RiskIndicator]
) -> Prompt | None:
    if not any(c.unborn for c in children):
        return None
    severity, why, reason = _escalated(indicators)
    return Prompt(
        PromptCode.CONSIDER_UNBORN,
        severity,
        "The patient is pregnant. Consider the unborn child's welfare and record your decision.",
        why,
        reason,
    )


def _confirm_authority(children: Sequence[Child], authority: AuthorityMatch) -> Prompt | None:
    if not children or authority.known:
        return None
    names = ", ".join(a.name for a in authority.candidates)
    detail = f"Could be: {names}." if names else authority.reason
    return Prompt(
        PromptCode.CONFIRM_AUTHORITY,
        Severity.WARNING,
        "Confirm which local authority's children's services covers where the children live.",
        detail,
    )
