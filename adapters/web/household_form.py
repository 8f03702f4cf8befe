"""The posted household form, read into the JSON shape ``household_from_dict`` takes.

Without script, children are added one row at a time: "Add another child" posts the form and
shows it again with one more empty row, keeping what was entered; "Remove" takes a row out.
A row left entirely empty is ignored. The date of birth is three boxes (day, month, year),
named as the date input component names them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from plugin_core.formats.referral_content import RELATIONSHIP_TEXT
from plugin_core.rules.household_entry import CHILD_RELATIONSHIPS

MAX_ROWS = 30
ROW_FIELDS = (
    "name",
    "birth_date.day",
    "birth_date.month",
    "birth_date.year",
    "estimated_age",
    "relationship",
    "lives_with_patient",
    "school",
)
RELATIONSHIP_OPTIONS = tuple((r.value, RELATIONSHIP_TEXT[r]) for r in CHILD_RELATIONSHIPS)
OUTCOME_OPTIONS = (
    ("no_children", "No children under 18 in the household", ""),
    ("children", "There are children under 18", "Add each child below."),
    (
        "declined",
        "Patient declined or unable to answer",
        "Recorded as not known. You will be asked again at the next contact.",
    ),
)
PREGNANT_OPTIONS = (("yes", "Yes", ""), ("no", "No", ""), ("unknown", "Not known", ""))
_ANSWER_ID = re.compile(r"^h-[0-9a-f]{32}$")
_ROW_FIELD = re.compile(r"^children\.(\d{1,2})\.([a-z_.]+)$")


def new_answer_id() -> str:
    return f"h-{secrets.token_hex(16)}"


@dataclass
class HouseholdForm:
    """What the nurse entered, kept as text so a re-shown form holds it unchanged."""

    values: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=lambda: [{}])
    token: str = ""
    csrf: str = ""
    answer_id: str = ""
    action: str = "save"
    """``save``, ``add`` (another child) or ``remove-N``."""

    @property
    def answer_id_ok(self) -> bool:
        return bool(_ANSWER_ID.match(self.answer_id))


def read_household_form(body: bytes) -> HouseholdForm:
    data = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    rows: dict[int, dict[str, str]] = {}
    for name, found in data.items():
        matched = _ROW_FIELD.match(name)
        if matched and matched.group(2) in ROW_FIELDS and int(matched.group(1)) < MAX_ROWS:
            rows.setdefault(int(matched.group(1)), {})[matched.group(2)] = found[0]
    ordered = [rows[i] for i in sorted(rows)] or [{}]

    def one(name: str) -> str:
        return data.get(name, [""])[0]

    return HouseholdForm(
        values={"outcome": one("outcome"), "pregnant": one("pregnant")},
        rows=ordered,
        token=one("t"),
        csrf=one("csrf"),
        answer_id=one("answer_id"),
        action=one("action") or "save",
    )


def apply_action(form: HouseholdForm) -> bool:
    """Add or remove a row for those buttons; True when the form is to be shown again."""
    if form.action == "add" and len(form.rows) < MAX_ROWS:
        form.rows.append({})
        form.values["outcome"] = "children"
        return True
    if form.action.startswith("remove-") and form.action[7:].isdigit():
        index = int(form.action[7:])
        if 0 <= index < len(form.rows):
            del form.rows[index]
        form.rows = form.rows or [{}]
        return True
    return False


def compact(form: HouseholdForm) -> None:
    """Drop rows left empty, so a problem's row number is the row the nurse sees."""
    form.rows = [r for r in form.rows if _filled(r)] or [{}]


def _filled(row: dict[str, str]) -> bool:
    return any(v.strip() for k, v in row.items() if k != "lives_with_patient") or bool(
        row.get("lives_with_patient")
    )


def _birth_date(row: dict[str, str]) -> str | None:
    parts = [row.get(k, "").strip() for k in ("birth_date.year", "birth_date.month", "birth_date.day")]
    if not any(parts):
        return None
    year, month, day = parts
    if not (year.isdigit() and month.isdigit() and day.isdigit()) or len(year) != 4:
        return "not a date"
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _child(row: dict[str, str]) -> dict[str, Any]:
    age = row.get("estimated_age", "").strip()
    lives = row.get("lives_with_patient", "")
    return {
        "name": row.get("name", "").strip(),
        "birth_date": _birth_date(row),
        "estimated_age": (int(age) if age.isdigit() else age) or None,
        "relationship": row.get("relationship", ""),
        "lives_with_patient": {"yes": True, "no": False}.get(lives),
        "school": row.get("school", "").strip(),
    }


def household_doc(form: HouseholdForm, professional_id: str) -> dict[str, Any]:
    """The answer as ``household_from_dict`` reads it."""
    outcome = form.values.get("outcome", "")
    pregnant = {"yes": True, "no": False}.get(form.values.get("pregnant", ""))
    children = [_child(r) for r in form.rows if _filled(r)] if outcome == "children" else []
    return {
        "id": form.answer_id,
        "recorded_by": {"id": professional_id},
        "outcome": outcome,
        "pregnant": pregnant,
        "children": children,
    }


def form_faults(form: HouseholdForm) -> dict[str, list[str]]:
    """Questions the form asks that the JSON leaves optional: the outcome and pregnancy."""
    found: dict[str, list[str]] = {}
    outcome = form.values.get("outcome", "")
    if outcome not in {value for value, _, _ in OUTCOME_OPTIONS}:
        found["outcome"] = ["choose one answer"]
    elif outcome != "declined" and form.values.get("pregnant") not in ("yes", "no", "unknown"):
        found["pregnant"] = ["choose yes, no or not known"]
    return found


def row_index(field_name: str) -> tuple[int, str] | None:
    """(row, field) of a problem about a child row, with the field as the JSON names it."""
    matched = re.match(r"^children\.(\d+)\.([a-z_]+)$", field_name)
    return (int(matched.group(1)), matched.group(2)) if matched else None
