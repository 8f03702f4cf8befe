"""The posted form, read into the JSON shape ``decision_from_dict`` takes.

The form never says who decides: ``decided_by`` comes from the signed link. A hidden decision
id, made when the form is first shown, makes a repeated submit the same decision.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from plugin_core.decide import DecisionInvalid, FieldProblem, validate
from plugin_core.decision_json import decision_from_dict

MAX_BODY = 64_000
MAX_TEXT = 5_000
TEXT_FIELDS = (
    "reasons",
    "what_shared",
    "consent_not_sought_reason",
    "no_action_override_reason",
)
CHOICE_FIELDS = ("share", "level_of_need", "lawful_basis", "consent", "authority_id")
FLAG_FIELDS = ("immediate_danger", "concerns_person_working_with_children")
_DECISION_ID = re.compile(r"^d-[0-9a-f]{32}$")


def new_decision_id() -> str:
    return f"d-{secrets.token_hex(16)}"


def is_decision_id(value: str) -> bool:
    return bool(_DECISION_ID.match(value))


@dataclass
class FormInput:
    """What the nurse entered, kept as text so a re-shown form holds it unchanged."""

    values: dict[str, str] = field(default_factory=dict)
    child_refs: tuple[str, ...] = ()
    token: str = ""
    decision_id: str = ""

    def flag(self, name: str) -> bool:
        return self.values.get(name) == "yes"


def read_form(body: bytes) -> FormInput:
    """The fields of a form-encoded body; unknown fields are ignored."""
    data = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)

    def one(name: str) -> str:
        return data.get(name, [""])[0]

    values = {name: one(name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS, *FLAG_FIELDS)}
    return FormInput(
        values=values,
        child_refs=tuple(dict.fromkeys(data.get("child_refs", []))),
        token=one("t"),
        decision_id=one("decision_id"),
    )


def decision_doc(form: FormInput, professional_id: str) -> dict[str, Any]:
    """The decision as ``decision_from_dict`` reads it; unanswered choices are left out."""
    v = form.values
    share = {"yes": True, "no": False}.get(v.get("share", ""))
    level = v.get("level_of_need", "")
    doc: dict[str, Any] = {
        "id": form.decision_id,
        "decided_by": {"id": professional_id},
        "share": share,
        "level_of_need": int(level) if level in ("1", "2", "3", "4") else None,
        "child_refs": list(form.child_refs),
    }
    for name in TEXT_FIELDS:
        doc[name] = v.get(name, "")
    for name in ("lawful_basis", "consent", "authority_id"):
        doc[name] = v.get(name) or None
    for name in FLAG_FIELDS:
        doc[name] = form.flag(name)
    return doc


def form_problems(
    form: FormInput,
    professional_id: str,
    *,
    now: datetime,
    known_authority: str | None,
    directory: list[str],
) -> list[FieldProblem]:
    """Faults the form finds itself: an unanswered yes/no, overlong text.

    When share is unanswered the service cannot check the rest, so the checks common to both
    answers (reasons, level of need) run here too: the nurse sees every fault at once.
    """
    problems = [
        FieldProblem(name, f"keep this under {MAX_TEXT:,} characters")
        for name in TEXT_FIELDS
        if len(form.values.get(name, "")) > MAX_TEXT
    ]
    if form.values.get("share") not in ("yes", "no"):
        problems.append(FieldProblem("share", "choose yes or no"))
        doc = decision_doc(form, professional_id) | {"share": False}
        try:
            validate(
                decision_from_dict(doc, contact_id="-", now=now),
                known_authority=known_authority,
                directory=directory,
            )
        except DecisionInvalid as exc:
            problems += [p for p in exc.problems if p.field in ("reasons", "level_of_need")]
    return problems
