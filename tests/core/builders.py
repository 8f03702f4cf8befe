"""Builders for the core tests: synthetic contacts, household members and indicators.

Every person here is synthetic. Times are built in UTC unless a test is about London time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from plugin_core.model import (
    Encounter,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Person,
    Referral,
    Relationship,
    RiskIndicator,
    Route,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "config"

# A synthetic adult: the NHS number passes the modulus 11 check but belongs to nobody.
PATIENT_NAME = "Alex Smith"
PATIENT_NHS_NUMBER = "9434765919"
PATIENT_BIRTH_DATE = "1988-05-01"
PATIENT_POSTCODE = "N7 8JL"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def member(
    birth_date: date | None,
    relationship: Relationship = Relationship.CHILD,
    *,
    lives_with_patient: bool | None = True,
    postcode: str | None = None,
    ref: str | None = None,
) -> HouseholdMember:
    return HouseholdMember(
        relationship=relationship,
        id=ref,
        birth_date=birth_date,
        lives_with_patient=lives_with_patient,
        postcode=postcode,
    )


def indicator(
    kind: IndicatorKind, system: str | None = None, code: str | None = None
) -> RiskIndicator:
    return RiskIndicator(kind=kind, system=system, code=code)


def make_contact(
    *,
    household: Sequence[HouseholdMember] | None = (),
    indicators: Sequence[RiskIndicator] = (),
    occurred_at: datetime | None = None,
    household_recorded_at: datetime | None = None,
    pregnant: bool | None = None,
    postcode: str | None = PATIENT_POSTCODE,
    contact_id: str = "contact-1",
) -> FirstContact:
    """A contact; ``household=None`` means never asked, the default ``()`` means nobody else."""
    return FirstContact(
        id=contact_id,
        occurred_at=occurred_at or utc(2026, 3, 2, 10, 0),
        patient=Person(
            id="p1",
            nhs_number=PATIENT_NHS_NUMBER,
            name=PATIENT_NAME,
            birth_date=date.fromisoformat(PATIENT_BIRTH_DATE),
            postcode=postcode,
        ),
        encounter=Encounter("e1", "inpatient"),
        household=None if household is None else tuple(household),
        household_recorded_at=household_recorded_at,
        indicators=tuple(indicators),
        pregnant=pregnant,
    )


def make_referral(route: Route = Route.FRONT_DOOR, authority_id: str = "islington") -> Referral:
    """A routine referral made at 10:00 on 2 March 2026, due three days later."""
    made = utc(2026, 3, 2, 10, 0)
    return Referral(
        id="r1",
        decision_id="d1",
        contact_id="contact-1",
        route=route,
        level_of_need=3,
        urgent=False,
        idempotency_key="k1",
        created_at=made,
        due_by=made + timedelta(days=3),
        authority_id=authority_id,
    )


MakeContact = Callable[..., FirstContact]
