"""ThinkFamily's own contact JSON, and the assessment printed as JSON.

The input is checked by a pydantic model, like the trust configuration. Errors name every
JSON path at fault and the reason, never the value, so a message cannot carry a patient's
details into a log.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

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
from plugin_core.settings.faults import JSON_WORDS, faults_of, json_path, refuse


class ContactJsonError(ContactInvalid):
    """The contact JSON is not valid; the message names the path and the reason."""


def _required(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        refuse("is required")
    return value


def _date(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        refuse("must be a string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        refuse("must be a date like 2016-06-01")


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        refuse("must be a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        refuse("must be an ISO 8601 date-time")
    if moment.tzinfo is None:
        refuse("must include a UTC offset, for example +00:00")
    return moment


def _kind(value: object) -> IndicatorKind:
    if value is None or value == "":
        return IndicatorKind.OTHER
    if not isinstance(value, str):
        refuse("must be a string")
    if value not in {k.value for k in IndicatorKind}:
        refuse(f"must be one of {', '.join(k.value for k in IndicatorKind)}")
    return IndicatorKind(value)


class _Json(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, hide_input_in_errors=True)


Text = str | None
Required = Annotated[str, BeforeValidator(_required)]
Day = Annotated[date | None, BeforeValidator(_date)]
Moment = Annotated[datetime | None, BeforeValidator(_moment)]


class PatientDoc(_Json):
    id: Required
    nhs_number: Text = None
    name: Text = None
    birth_date: Day = None
    postcode: Text = None
    sex: Text = None


class EncounterDoc(_Json):
    id: Required
    kind: Text = None
    location: Text = None


class MemberDoc(_Json):
    relationship: Text = None
    id: Text = None
    name: Text = None
    birth_date: Day = None
    lives_with_patient: bool | None = None
    postcode: Text = None


class IndicatorDoc(_Json):
    kind: Annotated[IndicatorKind, BeforeValidator(_kind)] = IndicatorKind.OTHER
    system: Text = None
    code: Text = None
    display: Text = None


class ContactDoc(_Json):
    """ThinkFamily contact JSON; ``null`` is read as absent, unknown keys are ignored."""

    id: Required
    occurred_at: Annotated[datetime, BeforeValidator(lambda v: _moment(_required(v)))]
    patient: Annotated[PatientDoc, BeforeValidator(_required)]
    encounter: EncounterDoc | None = None
    household: list[MemberDoc] | None = None
    household_recorded_at: Moment = None
    indicators: list[IndicatorDoc] | None = None
    pregnant: bool | None = None


def parse_contact(data: bytes | str, code_lists: CodeLists) -> FirstContact:
    """A FirstContact from ThinkFamily contact JSON, or ContactJsonError naming every fault."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContactJsonError(f"$: not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    if not isinstance(doc, dict):
        raise ContactJsonError("$: must be an object")
    return contact_from_dict(doc, code_lists)


def contact_from_dict(doc: dict[str, Any], code_lists: CodeLists) -> FirstContact:
    """A FirstContact; raises ContactJsonError listing every fault as ``path: reason``."""
    try:
        read = ContactDoc.model_validate(doc)
    except ValidationError as exc:
        faults = faults_of(exc, JSON_WORDS)
        raise ContactJsonError(
            "; ".join(f"{json_path(f.at)}: {f.reason}" for f in faults)
        ) from None
    patient = read.patient
    household = None
    if read.household is not None:
        members = []
        for item in read.household:
            relationship, unrecognised = read_relationship(item.relationship, code_lists)
            members.append(
                HouseholdMember(
                    relationship=relationship,
                    unrecognised_relationship=unrecognised,
                    id=item.id,
                    name=item.name,
                    birth_date=item.birth_date,
                    lives_with_patient=item.lives_with_patient,
                    postcode=item.postcode,
                )
            )
        household = tuple(members)
    encounter = read.encounter
    return FirstContact(
        id=read.id,
        occurred_at=read.occurred_at,
        patient=Person(
            id=patient.id,
            nhs_number=patient.nhs_number,
            name=patient.name,
            birth_date=patient.birth_date,
            postcode=patient.postcode,
            sex=patient.sex,
        ),
        encounter=Encounter(
            id=encounter.id, kind=encounter.kind or "unknown", location=encounter.location
        )
        if encounter is not None
        else None,
        household=household,
        household_recorded_at=read.household_recorded_at,
        indicators=tuple(
            RiskIndicator(kind=i.kind, system=i.system, code=i.code, display=i.display)
            for i in read.indicators or ()
        ),
        pregnant=read.pregnant,
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
