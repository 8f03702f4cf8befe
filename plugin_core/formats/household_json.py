"""The household answer and the phone call as JSON (the API's bodies; the pages post the same
fields), read into the model with every fault named by its JSON path.

A fault of shape (a wrong type, an unknown word, a date that is not a date) and a fault of
substance (a child of 18, no one who answered) come back together in one list, so the API and
the pages show the professional every fault at once.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from plugin_core.model import (
    HouseholdAnswer,
    HouseholdChild,
    HouseholdOutcome,
    PhoneCall,
    Professional,
    Relationship,
)
from plugin_core.rules.decide import FieldProblem
from plugin_core.rules.household_entry import HouseholdInvalid, answer_problems
from plugin_core.rules.phone_call import CallInvalid

MAX_CHILDREN = 30
OUTCOMES = ", ".join(o.value for o in HouseholdOutcome)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(16)}"


class _Reader:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fault(self, at: str, reason: str) -> None:
        self.problems.append(FieldProblem(at, reason))

    def text(self, doc: dict[str, Any], name: str, at: str) -> str:
        value = doc.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fault(at, "must be text")
            return ""
        return value

    def flag(self, doc: dict[str, Any], name: str, at: str) -> bool | None:
        value = doc.get(name)
        if value is None or isinstance(value, bool):
            return value
        self.fault(at, "must be true, false or null")
        return None

    def day(self, doc: dict[str, Any], name: str, at: str) -> date | None:
        value = doc.get(name)
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fault(at, "enter a real date")
            return None

    def moment(self, doc: dict[str, Any], name: str, at: str, default: datetime) -> datetime:
        value = doc.get(name)
        if value in (None, ""):
            return default
        try:
            found = datetime.fromisoformat(str(value))
        except ValueError:
            found = None
        if found is None or found.tzinfo is None:
            self.fault(at, "enter a date and time with its time zone")
            return default
        return found


def _professional(reader: _Reader, doc: dict[str, Any], name: str) -> Professional:
    found = doc.get(name)
    if not isinstance(found, dict) or not isinstance(found.get("id"), str) or not found["id"]:
        reader.fault(name, "say who recorded this: an object with an id")
        return Professional("unknown")
    fields = ("role", "name", "team", "phone", "email")
    return Professional(found["id"], **{f: reader.text(found, f, f"{name}.{f}") for f in fields})


def _child(reader: _Reader, doc: Any, at: str) -> HouseholdChild | None:
    if not isinstance(doc, dict):
        reader.fault(at, "must be an object")
        return None
    word = doc.get("relationship")
    try:
        relationship = Relationship(str(word))
    except ValueError:
        reader.fault(f"{at}.relationship", "choose how the child is related to the patient")
        relationship = Relationship.UNKNOWN
    lives = doc.get("lives_with_patient")
    if not isinstance(lives, bool):
        reader.fault(f"{at}.lives_with_patient", "say whether the child lives with the patient")
        lives = True
    age = doc.get("estimated_age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        reader.fault(f"{at}.estimated_age", "enter an age in whole years")
        age = None
    return HouseholdChild(
        name=reader.text(doc, "name", f"{at}.name"),
        relationship=relationship,
        lives_with_patient=lives,
        birth_date=reader.day(doc, "birth_date", f"{at}.birth_date"),
        estimated_age=age,
        school=reader.text(doc, "school", f"{at}.school"),
    )


def household_from_dict(
    doc: dict[str, Any], *, contact_id: str, on: date, now: datetime
) -> HouseholdAnswer:
    """The answer in ``doc``; raises HouseholdInvalid naming every fault by its path."""
    reader = _Reader()
    try:
        outcome = HouseholdOutcome(str(doc.get("outcome")))
    except ValueError:
        reader.fault("outcome", f"choose one of {OUTCOMES}")
        outcome = HouseholdOutcome.DECLINED
    by = _professional(reader, doc, "recorded_by")
    listed = doc.get("children") or []
    if not isinstance(listed, list) or len(listed) > MAX_CHILDREN:
        reader.fault("children", f"a list of up to {MAX_CHILDREN} children")
        listed = []
    children = [_child(reader, c, f"children.{i}") for i, c in enumerate(listed)]
    if listed and outcome is not HouseholdOutcome.CHILDREN:
        reader.fault("children", "list children only when the outcome is children")
    pregnant = reader.flag(doc, "pregnant", "pregnant")
    answer_id = doc.get("id") or new_id("h")
    if not isinstance(answer_id, str) or len(answer_id) > 64:
        reader.fault("id", "must be text of up to 64 characters")
        answer_id = new_id("h")
    if reader.problems:
        kept = (
            [c for c in children if c is not None] if outcome is HouseholdOutcome.CHILDREN else []
        )
        probe = HouseholdAnswer(answer_id, contact_id, outcome, by, now, tuple(kept), None)
        faulted = {p.field for p in reader.problems}
        more = [p for p in answer_problems(probe, on=on) if p.field not in faulted]
        raise HouseholdInvalid(reader.problems + more)
    answer = HouseholdAnswer(
        answer_id,
        contact_id,
        outcome,
        by,
        now,
        tuple(c for c in children if c is not None),
        None if outcome is HouseholdOutcome.DECLINED else pregnant,
    )
    problems = answer_problems(answer, on=on)
    if problems:
        raise HouseholdInvalid(problems)
    return answer


def call_from_dict(doc: dict[str, Any], *, referral_id: str, now: datetime) -> PhoneCall:
    """The call in ``doc``; raises CallInvalid naming every fault of shape by its path.

    Faults of substance (no one named, a time in the future) are the service's to find.
    """
    reader = _Reader()
    by = _professional(reader, doc, "recorded_by")
    call_id = doc.get("id") or new_id("call")
    if not isinstance(call_id, str) or len(call_id) > 64:
        reader.fault("id", "must be text of up to 64 characters")
        call_id = new_id("call")
    call = PhoneCall(
        call_id,
        referral_id,
        reader.text(doc, "number", "number"),
        reader.text(doc, "answered_by", "answered_by"),
        reader.moment(doc, "called_at", "called_at", now),
        by,
        now,
        reference=reader.text(doc, "reference", "reference").strip(),
        advice=reader.text(doc, "advice", "advice"),
    )
    if reader.problems:
        raise CallInvalid(reader.problems)
    return call
