"""A decision posted as JSON by a host or the clinician form, read into a Decision.

Type errors are reported per field as JSON paths, like the rule checks in ``decide``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from plugin_core.decide import DecisionInvalid, FieldProblem
from plugin_core.model import Consent, Decision, LawfulBasis, Professional


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
    decision = Decision(
        id=text("id") or f"d-{secrets.token_hex(8)}",
        contact_id=contact_id,
        decided_by=Professional(
            id=str(by.get("id", "")),
            role=str(by.get("role", "")),
            organisation=str(by.get("organisation", "")),
        ),
        decided_at=now,
        share=share,
        reasons=text("reasons"),
        level_of_need=level,
        lawful_basis=choice("lawful_basis", LawfulBasis, [b.value for b in LawfulBasis]),
        consent=choice("consent", Consent, [c.value for c in Consent]),
        consent_not_sought_reason=text("consent_not_sought_reason"),
        immediate_danger=flag("immediate_danger"),
        concerns_person_working_with_children=flag("concerns_person_working_with_children"),
        no_action_override_reason=text("no_action_override_reason"),
        what_shared=text("what_shared"),
        authority_id=text("authority_id") or None,
        child_refs=tuple(refs),
    )
    if problems:
        raise DecisionInvalid(problems)
    return decision
