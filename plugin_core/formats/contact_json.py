"""ThinkFamily's own contact JSON, and the assessment printed as JSON.

Errors name the JSON path and the reason, never the value, so a message cannot carry a
patient's details into a log.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from plugin_core.contract import ContactInvalid
from plugin_core.model import (
    Assessment,
    Encounter,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Person,
    RiskIndicator,
)
from plugin_core.rules.relationships import read_relationship
from plugin_core.settings.code_lists import CodeLists


class ContactJsonError(ContactInvalid):
    """The contact JSON is not valid; the message names the path and the reason."""


def _get(obj: dict[str, Any], key: str, path: str, kind: type, *, required: bool = False) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise ContactJsonError(f"{path}.{key}: is required")
        return None
    value = obj[key]
    if kind is str and not isinstance(value, str):
        raise ContactJsonError(f"{path}.{key}: must be a string")
    if required and kind is str and not value.strip():
        raise ContactJsonError(f"{path}.{key}: is required")
    if kind is bool and not isinstance(value, bool):
        raise ContactJsonError(f"{path}.{key}: must be true or false")
    if kind is dict and not isinstance(value, dict):
        raise ContactJsonError(f"{path}.{key}: must be an object")
    if kind is list and not isinstance(value, list):
        raise ContactJsonError(f"{path}.{key}: must be a list")
    return value


def _date(obj: dict[str, Any], key: str, path: str) -> date | None:
    raw = _get(obj, key, path, str)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ContactJsonError(f"{path}.{key}: must be a date like 2016-06-01") from None


def _datetime(
    obj: dict[str, Any], key: str, path: str, *, required: bool = False
) -> datetime | None:
    raw = _get(obj, key, path, str, required=required)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ContactJsonError(f"{path}.{key}: must be an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise ContactJsonError(f"{path}.{key}: must include a UTC offset, for example +00:00")
    return value


def parse_contact(data: bytes | str, code_lists: CodeLists) -> FirstContact:
    """A FirstContact from ThinkFamily contact JSON, or ContactJsonError naming the fault."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContactJsonError(f"$: not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    if not isinstance(doc, dict):
        raise ContactJsonError("$: must be an object")
    return contact_from_dict(doc, code_lists)


def contact_from_dict(doc: dict[str, Any], code_lists: CodeLists) -> FirstContact:
    contact_id = _get(doc, "id", "$", str, required=True)
    occurred_at = _datetime(doc, "occurred_at", "$", required=True)
    assert occurred_at is not None
    patient_doc = _get(doc, "patient", "$", dict, required=True)
    patient = Person(
        id=_get(patient_doc, "id", "$.patient", str, required=True),
        nhs_number=_get(patient_doc, "nhs_number", "$.patient", str),
        name=_get(patient_doc, "name", "$.patient", str),
        birth_date=_date(patient_doc, "birth_date", "$.patient"),
        postcode=_get(patient_doc, "postcode", "$.patient", str),
        sex=_get(patient_doc, "sex", "$.patient", str),
    )
    encounter_doc = _get(doc, "encounter", "$", dict)
    encounter = None
    if encounter_doc is not None:
        encounter = Encounter(
            id=_get(encounter_doc, "id", "$.encounter", str, required=True),
            kind=_get(encounter_doc, "kind", "$.encounter", str) or "unknown",
            location=_get(encounter_doc, "location", "$.encounter", str),
        )
    household_doc = _get(doc, "household", "$", list)
    household = None
    if household_doc is not None:
        members = []
        for i, item in enumerate(household_doc):
            path = f"$.household[{i}]"
            if not isinstance(item, dict):
                raise ContactJsonError(f"{path}: must be an object")
            relationship, unrecognised = read_relationship(
                _get(item, "relationship", path, str), code_lists
            )
            members.append(
                HouseholdMember(
                    relationship=relationship,
                    unrecognised_relationship=unrecognised,
                    id=_get(item, "id", path, str),
                    name=_get(item, "name", path, str),
                    birth_date=_date(item, "birth_date", path),
                    lives_with_patient=_get(item, "lives_with_patient", path, bool),
                    postcode=_get(item, "postcode", path, str),
                )
            )
        household = tuple(members)
    indicators = []
    for i, item in enumerate(_get(doc, "indicators", "$", list) or []):
        path = f"$.indicators[{i}]"
        if not isinstance(item, dict):
            raise ContactJsonError(f"{path}: must be an object")
        kind_raw = _get(item, "kind", path, str)
        try:
            kind = IndicatorKind(kind_raw) if kind_raw else IndicatorKind.OTHER
        except ValueError:
            choices = ", ".join(k.value for k in IndicatorKind)
            raise ContactJsonError(f"{path}.kind: must be one of {choices}") from None
        indicators.append(
            RiskIndicator(
                kind=kind,
                system=_get(item, "system", path, str),
                code=_get(item, "code", path, str),
                display=_get(item, "display", path, str),
            )
        )
    return FirstContact(
        id=contact_id,
        occurred_at=occurred_at,
        patient=patient,
        encounter=encounter,
        household=household,
        household_recorded_at=_datetime(doc, "household_recorded_at", "$"),
        indicators=tuple(indicators),
        pregnant=_get(doc, "pregnant", "$", bool),
        source="json",
    )


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """The assessment as plain JSON-ready data: ids, ages and prompts, no names."""
    match = assessment.authority
    return {
        "contact_id": assessment.contact_id,
        "assessed_at": assessment.assessed_at.isoformat(),
        "household_known": assessment.household_known,
        "children": [
            {
                "ref": c.ref,
                "age": c.age,
                "age_known": c.age_known,
                "unborn": c.unborn,
                "relationship": c.relationship.value,
                "lives_with_patient": c.lives_with_patient,
            }
            for c in assessment.children
        ],
        "unrecognised_relationships": list(assessment.unrecognised_relationships),
        "indicators": sorted({i.kind.value for i in assessment.indicators}),
        "prompts": [
            {
                "code": p.code.value,
                "severity": p.severity.value,
                "summary": p.summary,
                "detail": p.detail,
                "severity_reason": p.severity_reason,
            }
            for p in assessment.prompts
        ],
        "authority": {
            "id": match.authority.id if match.authority else None,
            "name": match.authority.name if match.authority else None,
            "candidates": [a.id for a in match.candidates],
            "reason": match.reason,
        },
        "unclassified_codes": [
            {"system": system, "code": code} for system, code in assessment.unclassified
        ],
    }
