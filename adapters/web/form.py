"""The posted form, read into the JSON shape ``decision_from_dict`` takes.

The form never says who decides: ``decided_by`` comes from the signed link; the form asks only
how children's services can reach them (name, role, team, phone, email). A hidden decision
id, made when the form is first shown, makes a repeated submit the same decision. Fields of
the decision's nested objects are named by their JSON paths (``escalated_to.name``), so a
problem the rules report lands beside the field it is about.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import LadoCriterion
from plugin_core.rules.decide import DecisionInvalid, FieldProblem, validate

MAX_BODY = 64_000
MAX_TEXT = 5_000
LEAD_FIELDS = ("escalated_to.name", "escalated_to.role", "escalated_to.contact")
ADVICE_FIELDS = (
    "advice_sought.name",
    "advice_sought.role",
    "advice_sought.sought_at",
    "advice_sought.advice",
)
REFERRER_FIELDS = (
    "decided_by.name",
    "decided_by.role",
    "decided_by.team",
    "decided_by.phone",
    "decided_by.email",
)
"""What children's services need to reach the professional; the signed link gives the id only."""
TEXT_FIELDS = (
    "reasons",
    "what_shared",
    "consent_not_sought_reason",
    "no_action_override_reason",
    *LEAD_FIELDS,
    *ADVICE_FIELDS,
    *REFERRER_FIELDS,
)
CHOICE_FIELDS = ("share", "level_of_need", "lawful_basis", "consent", "authority_id")
FLAG_FIELDS = (
    "immediate_danger",
    "concerns_person_working_with_children",
    "consent_basis_confirmed",
)
UNREACHABLE = "give your direct phone or email, so children's services can call you back"
"""A referral goes with how to reach the professional who made it: the front door calls back
with questions, and a referral it cannot ask about waits."""
_LONDON = ZoneInfo("Europe/London")
_CRITERIA = frozenset(c.value for c in LadoCriterion)
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
    lado_criteria: tuple[str, ...] = ()
    token: str = ""
    decision_id: str = ""
    supersedes: str = ""
    """The contact's decision in force when the form was shown, which this one replaces."""
    csrf: str = ""
    """Proves the post came from a form this service showed (see ``form_access``)."""
    user: object = None
    """The signed-in person the form is shown to (never read from the post)."""

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
        lado_criteria=tuple(
            c for c in dict.fromkeys(data.get("lado_criteria", [])) if c in _CRITERIA
        ),
        token=one("t"),
        decision_id=one("decision_id"),
        supersedes=one("supersedes"),
        csrf=one("csrf"),
    )


def decision_doc(form: FormInput, professional_id: str) -> dict[str, Any]:
    """The decision as ``decision_from_dict`` reads it; unanswered choices are left out."""
    v = form.values
    share = {"yes": True, "no": False}.get(v.get("share", ""))
    level = v.get("level_of_need", "")
    doc: dict[str, Any] = {
        "id": form.decision_id,
        "decided_by": (_nested(v, REFERRER_FIELDS) or {}) | {"id": professional_id},
        "share": share,
        "level_of_need": int(level) if level in ("1", "2", "3", "4") else None,
        "child_refs": list(form.child_refs),
        "supersedes": form.supersedes or None,
    }
    for name in TEXT_FIELDS:
        if "." not in name:
            doc[name] = v.get(name, "")
    for name in ("lawful_basis", "consent", "authority_id"):
        doc[name] = v.get(name) or None
    for name in FLAG_FIELDS:
        doc[name] = form.flag(name)
    doc["lado_criteria"] = list(form.lado_criteria)
    doc["escalated_to"] = _nested(v, LEAD_FIELDS)
    advice = _nested(v, ADVICE_FIELDS)
    if advice is not None:
        when = london_time(advice["sought_at"])
        advice["sought_at"] = when.isoformat() if when else advice["sought_at"]
    doc["advice_sought"] = advice
    return doc


def _nested(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str] | None:
    """One nested object of the decision, or None when the nurse left all its fields empty."""
    found = {name.split(".", 1)[1]: values.get(name, "").strip() for name in names}
    return found if any(found.values()) else None


def london_time(text: str) -> datetime | None:
    """A time as a browser's date-and-time field sends it ("2026-03-03T09:45"), or as typed
    where the browser has no such field ("03/03/2026 09:45"), in London time."""
    text = text.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = datetime.strptime(text, "%d/%m/%Y %H:%M")  # noqa: DTZ007 - London, below
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=_LONDON)


def form_problems(
    form: FormInput,
    professional_id: str,
    *,
    now: datetime,
    known_authority: str | None,
    directory: list[str],
) -> list[FieldProblem]:
    """Faults the form finds itself: an unanswered yes/no, overlong text, a referral without a
    phone or email to reach the professional by.

    When share is unanswered the service cannot check the rest, so the checks common to both
    answers (reasons, level of need) run here too: the nurse sees every fault at once.
    """
    problems = [
        FieldProblem(name, f"keep this under {MAX_TEXT:,} characters")
        for name in TEXT_FIELDS
        if len(form.values.get(name, "")) > MAX_TEXT
    ]
    when = form.values.get("advice_sought.sought_at", "").strip()
    if when and london_time(when) is None:
        problems.append(
            FieldProblem(
                "advice_sought.sought_at", "enter the date and time, like 03/03/2026 09:45"
            )
        )
    def rule_problems(**changes: object) -> list[FieldProblem]:
        """What the rules find in the form as posted, with ``changes``; the nurse then sees
        every fault at once rather than one round at a time."""
        doc = decision_doc(form, professional_id) | {"advice_sought": None, **changes}
        try:
            validate(
                decision_from_dict(doc, contact_id="-", now=now),
                known_authority=known_authority,
                directory=directory,
            )
        except DecisionInvalid as exc:
            return exc.problems
        return []

    if form.values.get("share") == "yes" and not any(
        form.values.get(name, "").strip() for name in ("decided_by.phone", "decided_by.email")
    ):
        problems.append(FieldProblem("decided_by.phone", UNREACHABLE))
        problems += rule_problems()
    if form.values.get("share") not in ("yes", "no"):
        problems.append(FieldProblem("share", "choose yes or no"))
        # Only what holds whichever way share is answered: the fuller reason asked of a
        # decision not to share would mislead a nurse who meant to share.
        common = (
            ("reasons", "level_of_need")
            if not form.values.get("reasons", "").strip()
            else ("level_of_need",)
        )
        problems += [p for p in rule_problems(share=False) if p.field in common]
    return problems
