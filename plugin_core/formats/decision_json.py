"""A decision posted as JSON by a host or the clinician form, read into a Decision.

The input is checked by a pydantic model, like the trust configuration: every field that is
the wrong type is reported at once as a path and a reason (``escalated_to.name: must be
text``), never with its value, like the rule checks in ``decide``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

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
from plugin_core.settings.faults import faults_of, json_path, refuse

_WHEN_EXAMPLE = "2026-03-02T10:30:00+00:00"
_WORDS = {"dict_type": "must be an object", "model_type": "must be an object"}
_CRITERIA = ", ".join(c.value for c in LadoCriterion)


def _professional(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        refuse("must be an object with the professional's id")
    return value


def _level(value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        refuse("must be 1, 2, 3 or 4")
    return value


def _share(value: object) -> bool:
    if not isinstance(value, bool):
        refuse("say whether information is shared: true or false")
    return value


def _refs(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        refuse("must be a list of child references")
    return value


def _criteria(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        refuse(f"must be a list of: {_CRITERIA}")
    return value


def _criterion(value: object) -> LadoCriterion:
    if not isinstance(value, str) or value not in {c.value for c in LadoCriterion}:
        refuse(f"must be one of {_CRITERIA}")
    return LadoCriterion(value)


def _choice(make: Callable[[str], Any], names: list[str]) -> BeforeValidator:
    def check(value: object) -> Any:
        try:
            return None if value is None else make(value)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            refuse(f"must be one of {', '.join(names)}")

    return BeforeValidator(check)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        refuse("must be true or false")
    return value


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        refuse("must be text")
    if not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        refuse(f"must be a date and time with its time zone, like {_WHEN_EXAMPLE}")
    return when


class _Json(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, hide_input_in_errors=True)


class _LeadDoc(_Json):
    name: str | None = None
    role: str | None = None
    contact: str | None = None


class _ProfessionalDoc(_Json):
    """Who decided, and how the receiving authority reaches them about a referral."""

    id: str
    role: str | None = None
    organisation: str | None = None
    name: str | None = None
    team: str | None = None
    phone: str | None = None
    email: str | None = None


class _AdviceDoc(_Json):
    name: str | None = None
    role: str | None = None
    sought_at: Annotated[datetime | None, BeforeValidator(_when)] = None
    advice: str | None = None


Text = str | None
Flag = Annotated[bool, BeforeValidator(_flag)]


class DecisionDoc(_Json):
    """A decision as posted; field order is the order faults are listed in."""

    decided_by: Annotated[_ProfessionalDoc, BeforeValidator(_professional)] = Field(
        default=None, validate_default=True
    )
    level_of_need: Annotated[int | None, BeforeValidator(_level)] = None
    share: Annotated[bool, BeforeValidator(_share)] = Field(default=None, validate_default=True)
    child_refs: Annotated[list[str], BeforeValidator(_refs)] = Field(default_factory=list)
    lado_criteria: Annotated[
        list[Annotated[LadoCriterion, BeforeValidator(_criterion)]], BeforeValidator(_criteria)
    ] = Field(default_factory=list)
    concerns_person_working_with_children: Flag | None = None
    id: Text = None
    reasons: Text = None
    lawful_basis: Annotated[
        LawfulBasis | None, _choice(LawfulBasis, [b.value for b in LawfulBasis])
    ] = None
    consent: Annotated[Consent | None, _choice(Consent, [c.value for c in Consent])] = None
    consent_not_sought_reason: Text = None
    immediate_danger: Flag = False
    no_action_override_reason: Text = None
    what_shared: Text = None
    authority_id: Text = None
    consent_basis_confirmed: Flag = False
    escalated_to: _LeadDoc | None = None
    advice_sought: _AdviceDoc | None = None
    supersedes: Text = None


def decision_from_dict(doc: dict[str, Any], *, contact_id: str, now: datetime) -> Decision:
    """Read a decision; raises DecisionInvalid naming each field that is the wrong type."""
    try:
        read = DecisionDoc.model_validate(doc)
    except ValidationError as exc:
        raise DecisionInvalid(
            [FieldProblem(json_path(f.at, root=""), f.reason) for f in faults_of(exc, _WORDS)]
        ) from None
    criteria = tuple(dict.fromkeys(read.lado_criteria))
    # The old yes/no alone is still read, but is refused without criteria; criteria alone say
    # the concern is about someone who works with children.
    lado = read.concerns_person_working_with_children
    by = read.decided_by
    return Decision(
        id=read.id or f"d-{secrets.token_hex(8)}",
        contact_id=contact_id,
        decided_by=Professional(
            id=by.id,
            role=(by.role or "").strip(),
            organisation=(by.organisation or "").strip(),
            name=(by.name or "").strip(),
            team=(by.team or "").strip(),
            phone=(by.phone or "").strip(),
            email=(by.email or "").strip(),
        ),
        decided_at=now,
        share=read.share,
        reasons=read.reasons or "",
        level_of_need=read.level_of_need,
        lawful_basis=read.lawful_basis,
        consent=read.consent,
        consent_not_sought_reason=read.consent_not_sought_reason or "",
        immediate_danger=read.immediate_danger,
        concerns_person_working_with_children=bool(criteria) if lado is None else lado,
        no_action_override_reason=read.no_action_override_reason or "",
        what_shared=read.what_shared or "",
        authority_id=read.authority_id or None,
        child_refs=tuple(read.child_refs),
        consent_basis_confirmed=read.consent_basis_confirmed,
        lado_criteria=criteria,
        escalated_to=_lead(read.escalated_to),
        advice_sought=_advice(read.advice_sought),
        supersedes=(read.supersedes or "").strip() or None,
    )


def _lead(doc: _LeadDoc | None) -> Lead | None:
    if doc is None:
        return None
    texts = {"name": doc.name or "", "role": doc.role or "", "contact": doc.contact or ""}
    return Lead(**texts) if any(t.strip() for t in texts.values()) else None


def _advice(doc: _AdviceDoc | None) -> AdviceSought | None:
    if doc is None:
        return None
    texts = (doc.name or "", doc.role or "", doc.advice or "")
    if doc.sought_at is None and not any(t.strip() for t in texts):
        return None
    return AdviceSought(doc.name or "", doc.role or "", doc.sought_at, doc.advice or "")
