"""What both pages show of a contact, as the plain values the templates lay out.

Wording is chosen here and in ``wording``; markup is the templates' alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.web.wording import INDICATORS, RELATIONSHIPS, SEVERITY, lives_with
from plugin_core.model import Assessment, Child, FirstContact, Prompt
from plugin_core.rules.children import member_for


@dataclass(frozen=True, slots=True)
class PromptView:
    severity: str
    word: str
    summary: str
    detail: str


@dataclass(frozen=True, slots=True)
class ChildRow:
    name: str
    age: str
    relationship: str
    home: str


def who(contact: FirstContact) -> str:
    """The patient line at the top of each page: name, NHS number, date of birth."""
    p = contact.patient
    parts = [p.name or f"Patient {p.id}"]
    if p.nhs_number:
        parts.append(f"NHS number {p.nhs_number}")
    if p.birth_date:
        parts.append(f"born {p.birth_date.strftime('%d %b %Y')}")
    return " · ".join(parts)


def prompt_view(prompt: Prompt) -> PromptView:
    return PromptView(
        prompt.severity.value, SEVERITY[prompt.severity], prompt.summary, prompt.detail
    )


def child_name(child: Child, contact: FirstContact, index: int) -> str:
    if child.unborn:
        return "Unborn child"
    member = member_for(child.ref, contact.household)
    return child.name or (member.name if member else None) or f"Child {index}"


def child_age(child: Child) -> str:
    if child.unborn:
        return "not yet born"
    if child.age is None:
        return f"about {child.age_band} (estimated)" if child.age_band else "age not known"
    return "under 1" if child.age == 0 else f"{child.age}"


def child_rows(contact: FirstContact, children: Sequence[Child]) -> list[ChildRow]:
    return [
        ChildRow(
            child_name(c, contact, i),
            child_age(c),
            RELATIONSHIPS[c.relationship],
            "—" if c.unborn else lives_with(c.lives_with_patient),
        )
        for i, c in enumerate(children, start=1)
    ]


def indicator_words(assessment: Assessment) -> list[str]:
    """Each kind of risk indicator once, in the order the record lists them."""
    return [INDICATORS[k] for k in dict.fromkeys(i.kind for i in assessment.indicators)]
