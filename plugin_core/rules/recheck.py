"""The re-check period: after a decision for an adult, do not prompt again unless something changed.

A professional who has recorded a Think Family decision for an adult is not asked again, for
the trust's ``recheck_days``, every time the adult's record is opened or updated. The decision
keeps a small summary of the facts it was made on (children by reference and age, indicators by
kind, system and code, pregnancy, a child protection flag: never names or dates of birth). A
later contact is compared with that summary: anything new (a child, an indicator, a pregnancy, a
child protection flag) prompts again, and the prompt says what changed.

Pure functions over the domain model, so the rule is in one place and needs no store to test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from plugin_core.model import Assessment, FirstContact, IndicatorKind, Prompt
from plugin_core.rules.clock import LONDON

FACTS_VERSION = 1


class Change(StrEnum):
    """What may be new since a decision; each one prompts again within the re-check period."""

    NEW_CHILD = "new-child"
    NEW_INDICATOR = "new-indicator"
    PREGNANCY = "pregnancy"
    CHILD_PROTECTION_FLAG = "child-protection-flag"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    Change.NEW_CHILD: "a child not recorded then",
    Change.NEW_INDICATOR: "a new risk indicator in the record",
    Change.PREGNANCY: "a pregnancy",
    Change.CHILD_PROTECTION_FLAG: "a new child protection flag",
}


@dataclass(frozen=True, slots=True)
class ChildFact:
    """A child by the reference the household gave and the age on the contact date."""

    ref: str
    age: int | None


@dataclass(frozen=True, slots=True)
class IndicatorFact:
    kind: str
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class Facts:
    """What an assessment rested on, as far as the re-check period cares: ids, ages, codes.

    ``on`` is the contact date the ages were counted on, so a birthday since is not a new child.
    """

    on: date
    children: tuple[ChildFact, ...]
    indicators: tuple[IndicatorFact, ...]
    pregnant: bool
    child_protection: bool

    def to_json(self) -> str:
        return json.dumps(self._data() | {"on": self.on.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Facts:
        data: dict[str, Any] = json.loads(text)
        return cls(
            on=date.fromisoformat(data["on"]),
            children=tuple(ChildFact(ref, age) for ref, age in data["children"]),
            indicators=tuple(IndicatorFact(k, s, c) for k, s, c in data["indicators"]),
            pregnant=bool(data["pregnant"]),
            child_protection=bool(data["child_protection"]),
        )

    def fingerprint(self) -> str:
        """A digest of the facts without the date: equal facts on any day give the same one."""
        text = json.dumps(self._data(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _data(self) -> dict[str, Any]:
        return {
            "v": FACTS_VERSION,
            "children": [[c.ref, c.age] for c in self.children],
            "indicators": [[i.kind, i.system, i.code] for i in self.indicators],
            "pregnant": self.pregnant,
            "child_protection": self.child_protection,
        }


def facts_of(contact: FirstContact, assessment: Assessment) -> Facts:
    """The facts of one assessed contact, in a fixed order so equal facts compare equal."""
    indicators = sorted(
        {_indicator(i.kind, i.system, i.code) for i in assessment.indicators},
        key=lambda i: (i.kind, i.system or "", i.code or ""),
    )
    kinds = {i.kind for i in assessment.indicators}
    born = sorted(
        {ChildFact(c.ref, c.age) for c in assessment.children if not c.unborn},
        key=lambda c: (c.ref, -1 if c.age is None else c.age),
    )
    return Facts(
        on=contact.occurred_at.astimezone(LONDON).date(),
        children=tuple(born),
        indicators=tuple(indicators),
        pregnant=any(c.unborn for c in assessment.children) or IndicatorKind.PREGNANCY in kinds,
        child_protection=IndicatorKind.CHILD_PROTECTION in kinds,
    )


def _indicator(kind: IndicatorKind, system: str | None, code: str | None) -> IndicatorFact:
    return IndicatorFact(
        kind.value,
        (system.strip().lower() or None) if system else None,
        (code.strip().upper() or None) if code else None,
    )


def changes_between(then: Facts, now: Facts) -> tuple[Change, ...]:
    """What ``now`` holds that ``then`` did not, in a fixed order; empty when nothing is new."""
    found: list[Change] = []
    if any(_is_new_child(child, then, now) for child in now.children):
        found.append(Change.NEW_CHILD)
    pregnancy = now.pregnant and not then.pregnant
    known = set(then.indicators)
    added = [i for i in now.indicators if i not in known]
    protection = IndicatorKind.CHILD_PROTECTION.value
    skipped = {protection} | ({IndicatorKind.PREGNANCY.value} if pregnancy else set())
    if any(i.kind not in skipped for i in added):
        found.append(Change.NEW_INDICATOR)
    if pregnancy:
        found.append(Change.PREGNANCY)
    if any(i.kind == protection for i in added):
        found.append(Change.CHILD_PROTECTION_FLAG)
    return tuple(found)


def _is_new_child(child: ChildFact, then: Facts, now: Facts) -> bool:
    """A reference not seen then, or seen with an age this child could not have grown from."""
    ages = [c.age for c in then.children if c.ref == child.ref]
    if not ages:
        return True
    if child.age is None or any(a is None for a in ages):
        return False  # the same reference, an age recorded or lost: the same child
    birthdays = abs((now.on - then.on).days) // 365 + 1
    return not any(abs(child.age - a) <= birthdays for a in ages if a is not None)


@dataclass(frozen=True, slots=True)
class Basis:
    """What one decision for an adult was made on, and from when its re-check period runs."""

    decision_id: str
    since: datetime
    facts: Facts


@dataclass(frozen=True, slots=True)
class Recheck:
    """How an earlier decision, still within its re-check period, bears on a new contact."""

    decision_id: str
    since: datetime
    until: datetime
    changes: tuple[Change, ...]

    @property
    def suppresses(self) -> bool:
        """True when nothing changed: the prompts are recorded but not shown."""
        return not self.changes


def judge(facts: Facts, basis: Basis | None, *, now: datetime, recheck_days: int) -> Recheck | None:
    """The bearing of the adult's latest decision on a contact; None when there is none in
    its period (none recorded, or older than ``recheck_days``)."""
    if basis is None:
        return None
    until = basis.since + timedelta(days=recheck_days)
    if now >= until:
        return None
    return Recheck(basis.decision_id, basis.since, until, changes_between(basis.facts, facts))


def patient_key(trust_id: str, patient_id: str) -> str:
    """The adult at this trust: the re-check period never crosses trusts."""
    return f"{trust_id}|{patient_id}"


def reuse_key(patient: str, encounter: str, facts: Facts, prompts: Iterable[Prompt]) -> str:
    """Names an open contact that a repeated call in the same encounter may reuse.

    Equal only for the same adult, encounter, facts and prompts (code and severity), so a call
    that brings something new makes a contact of its own.
    """
    shown = ",".join(f"{p.code.value}:{p.severity.value}" for p in prompts)
    text = "\n".join((patient, encounter, facts.fingerprint(), shown))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def with_changes_noted(assessment: Assessment, recheck: Recheck) -> Assessment:
    """The assessment with each prompt saying what is new since the decision."""
    when = recheck.since.astimezone(LONDON)
    words = ", ".join(c.words for c in recheck.changes)
    note = f"New since the decision of {when.day} {when:%B %Y}: {words}."
    prompts = tuple(replace(p, detail=f"{note} {p.detail}".strip()) for p in assessment.prompts)
    return replace(assessment, prompts=prompts)
