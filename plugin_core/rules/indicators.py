"""Settling each indicator against the trust's code lists: its kind, weight and reason.

Whoever supplied an indicator (ThinkFamily JSON, an adapter, a host plugin), it passes through
here once, so the [systems] aliases and the weights apply the same way on every path.

- An ``other`` indicator takes the kind, weight, rationale and label of the first list that
  names its code.
- A host that named the kind itself is trusted: the lists give the weight only when they agree
  on the kind; otherwise the default for the kind applies (plugin_core/rules/severity.py). One
  exception, for safety: a code the lists read as a pregnancy that has ended, or a recent birth,
  is never a current pregnancy, whoever called it one.
- A recognised system is written as its canonical URI, so a referral names it correctly.
- An ``other`` indicator whose system is unrecognised or missing cannot be read at all: it is
  listed as unclassified rather than silently dropped. A recognised system's code that no list
  names is an ordinary diagnosis and is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from plugin_core.model import IndicatorKind, RiskIndicator
from plugin_core.rules.code_lists import CodeLists
from plugin_core.rules.severity import DEFAULTS

_NOT_PREGNANT_NOW = frozenset({IndicatorKind.PREGNANCY_ENDED, IndicatorKind.POSTNATAL})


def settle(indicator: RiskIndicator, lists: CodeLists) -> RiskIndicator:
    """The indicator with its kind, weight and reason settled by the code lists."""
    rule = lists.match(indicator.system, indicator.code)
    if lists.recognises(indicator.system):
        indicator = replace(indicator, system=lists.canonical_system(indicator.system))
    kind = indicator.kind
    if rule is not None and kind is IndicatorKind.PREGNANCY and rule.kind in _NOT_PREGNANT_NOW:
        return replace(
            indicator,
            kind=rule.kind,
            weight=rule.weight,
            rationale=rule.rationale,
            label=rule.label,
        )
    if rule is not None and kind in (IndicatorKind.OTHER, rule.kind):
        return replace(
            indicator,
            kind=rule.kind,
            weight=indicator.weight or rule.weight,
            rationale=indicator.rationale or rule.rationale,
            label=indicator.label or rule.label,
        )
    if kind is IndicatorKind.OTHER:
        return indicator  # unweighed: an ordinary entry, or unclassified (see below)
    default = DEFAULTS[kind]
    return replace(
        indicator,
        weight=indicator.weight or default.weight,
        rationale=indicator.rationale or default.rationale,
    )


def is_unclassified(indicator: RiskIndicator, lists: CodeLists) -> bool:
    """True for a coded entry nobody classified whose system ThinkFamily cannot read."""
    return (
        indicator.kind is IndicatorKind.OTHER
        and bool(indicator.code)
        and not lists.recognises(indicator.system)
    )


def unclassified_codes(
    indicators: Iterable[RiskIndicator], lists: CodeLists
) -> tuple[tuple[str, str], ...]:
    """(system, code) of each unclassified entry, once each, in the order first seen."""
    found = (
        ((i.system or "").strip(), (i.code or "").strip())
        for i in indicators
        if is_unclassified(i, lists)
    )
    return tuple(dict.fromkeys(found))


_NOT_FOR_REFERRALS = frozenset({IndicatorKind.PREGNANCY_ENDED, IndicatorKind.OTHER})


def for_referral(indicators: Iterable[RiskIndicator]) -> tuple[RiskIndicator, ...]:
    """The indicators a referral carries: those that bear on the children's welfare.

    A pregnancy that has ended (a miscarriage, a termination) says nothing about a child the
    authority could help and is among the most sensitive facts in a record, so it is never
    shared; nor is an entry no code list recognised.
    """
    return tuple(i for i in indicators if i.kind not in _NOT_FOR_REFERRALS)
