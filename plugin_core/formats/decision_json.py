"""A decision posted as JSON by a host or the clinician form, read into a Decision.

Type errors are reported per field as JSON paths, like the rule checks in ``decide``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from plugin_core.model import (
    AdviceSought,
    Consent,
    Decision,
    LadoCriterion,
    LawfulBasis,
    Lead,
    Professional,
)
from plugin_core.rules.decide import DecisionInvalid, FieldProblem

_WHEN_EXAMPLE = "2026-03-02T10:30:00+00:00"


def decision_from_dict(doc: dict[str, Any], *, contact_id: str, now: datetime) -> Decision:
    """Read a decision; raises DecisionInvalid naming each field that is the wrong type."""
    problems: list[FieldProblem] = []

    def text(key: str, default: str = "") -> str:
        value = doc.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            problems.append(FieldProblem(key, "must be text"))
            return default
        return value

    def flag(key: str) -> bool:
        value = doc.get(key, False)
        if not isinstance(value, bool):
            problems.append(FieldProblem(key, "must be true or false"))
            return False
        return value

    def choice(key: str, make: Callable[[str], Any], names: list[str]) -> Any:
        value = doc.get(key)
        if value is None:
            return None
        try:
            return make(value)
        except (ValueError, TypeError):
            problems.append(FieldProblem(key, f"must be one of {', '.join(names)}"))
            return None

    by = doc.get("decided_by")
    if not isinstance(by, dict) or not isinstance(by.get("id"), str):
        problems.append(FieldProblem("decided_by", "must be an object with the professional's id"))
        by = {"id": ""}
    level = doc.get("level_of_need")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        problems.append(FieldProblem("level_of_need", "must be 1, 2, 3 or 4"))
        level = None
    share = doc.get("share")
    if not isinstance(share, bool):
        problems.append(FieldProblem("share", "say whether information is shared: true or false"))
        share = False
    refs = doc.get("child_refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        problems.append(FieldProblem("child_refs", "must be a list of child references"))
        refs = []
    criteria = _criteria(doc.get("lado_criteria"), problems)
    # The old yes/no alone is still read, but is refused without criteria; criteria alone say
    # the concern is about someone who works with children.
    lado = (
        flag("concerns_person_working_with_children")
        if "concerns_person_working_with_children" in doc
        else bool(criteria)
    )
    decision = Decision(
        id=text("id") or f"d-{secrets.token_hex(8)}",
        contact_id=contact_id,
        decided_by=_professional(by, problems),
        decided_at=now,
        share=share,
        reasons=text("reasons"),
        level_of_need=level,
        lawful_basis=choice("lawful_basis", LawfulBasis, [b.value for b in LawfulBasis]),
        consent=choice("consent", Consent, [c.value for c in Consent]),
        consent_not_sought_reason=text("consent_not_sought_reason"),
        immediate_danger=flag("immediate_danger"),
        concerns_person_working_with_children=lado,
        no_action_override_reason=text("no_action_override_reason"),
        what_shared=text("what_shared"),
        authority_id=text("authority_id") or None,
        child_refs=tuple(refs),
        consent_basis_confirmed=flag("consent_basis_confirmed"),
        lado_criteria=criteria,
        escalated_to=_lead(doc.get("escalated_to"), problems),
        advice_sought=_advice(doc.get("advice_sought"), problems),
        supersedes=text("supersedes") or None,
    )
    if problems:
        raise DecisionInvalid(problems)
    return decision


def _criteria(value: Any, problems: list[FieldProblem]) -> tuple[LadoCriterion, ...]:
    if value is None:
        return ()
    names = ", ".join(c.value for c in LadoCriterion)
    if not isinstance(value, list):
        problems.append(FieldProblem("lado_criteria", f"must be a list of: {names}"))
        return ()
    chosen: list[LadoCriterion] = []
    for i, item in enumerate(value):
        try:
            chosen.append(LadoCriterion(item))
        except ValueError:
            problems.append(FieldProblem(f"lado_criteria[{i}]", f"must be one of {names}"))
    return tuple(dict.fromkeys(chosen))


def _texts(
    value: Any, key: str, names: tuple[str, ...], problems: list[FieldProblem]
) -> dict[str, str] | None:
    """An object's text fields; None when absent, empty, or not an object (reported)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(FieldProblem(key, "must be an object"))
        return None
    out: dict[str, str] = {}
    for name in names:
        item = value.get(name)
        if item is None:
            out[name] = ""
        elif isinstance(item, str):
            out[name] = item
        else:
            problems.append(FieldProblem(f"{key}.{name}", "must be text"))
            out[name] = ""
    return out


_PROFESSIONAL_TEXTS = ("role", "organisation", "name", "team", "phone", "email")


def _professional(by: dict[str, Any], problems: list[FieldProblem]) -> Professional:
    """Who decided, and how the receiving authority reaches them about a referral."""
    texts = _texts(by, "decided_by", _PROFESSIONAL_TEXTS, problems) or {}
    return Professional(id=str(by.get("id", "")), **{k: v.strip() for k, v in texts.items()})


def _lead(value: Any, problems: list[FieldProblem]) -> Lead | None:
    texts = _texts(value, "escalated_to", ("name", "role", "contact"), problems)
    if texts is None or not any(t.strip() for t in texts.values()):
        return None
    return Lead(**texts)


def _advice(value: Any, problems: list[FieldProblem]) -> AdviceSought | None:
    texts = _texts(value, "advice_sought", ("name", "role", "sought_at", "advice"), problems)
    if texts is None or not any(t.strip() for t in texts.values()):
        return None
    when = None
    raw = texts.pop("sought_at").strip()
    if raw:
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            problems.append(
                FieldProblem(
                    "advice_sought.sought_at",
                    f"must be a date and time with its time zone, like {_WHEN_EXAMPLE}",
                )
            )
            when = None
    return AdviceSought(sought_at=when, **texts)
