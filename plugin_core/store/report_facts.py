"""The rows the worklist and dashboard queries give back: small, frozen and free of SQL, so
the service counts figures from them without reaching into the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin_core.model import ContactState, FirstContact, ReferralStatus
from plugin_core.store.records import StoredReferral


@dataclass(frozen=True, slots=True)
class ContactFact:
    """One contact, as the dashboard counts it."""

    received_at: datetime
    state: ContactState
    prompt_codes: tuple[str, ...]
    location: str | None
    occurred_at: datetime | None
    household_recorded_at: datetime | None


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """One decision in force (no later decision replaces it), with its referrals' routes."""

    decision_id: str
    decided_at: datetime
    share: bool
    level_of_need: int | None
    location: str | None
    routes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReferralFact:
    """One referral made (not an update or cancellation, not withdrawn before sending)."""

    created_at: datetime
    authority_id: str | None
    route: str
    status: ReferralStatus
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    location: str | None


@dataclass(frozen=True, slots=True)
class EscalationFact:
    """A decision not to share put before a lead (``not_shared``, ``override``), or a
    referral escalated because nobody acknowledged it in time (``overdue``)."""

    at: datetime
    kind: str
    location: str | None


@dataclass(frozen=True, slots=True)
class DashboardFacts:
    contacts: tuple[ContactFact, ...]
    decisions: tuple[DecisionFact, ...]
    referrals: tuple[ReferralFact, ...]
    escalations: tuple[EscalationFact, ...]


@dataclass(frozen=True, slots=True)
class RecentContact:
    """A contact by its adult and place, for the reviews on the worklist."""

    contact_id: str
    received_at: datetime
    patient_id: str
    patient_name: str | None
    location: str | None

    def __repr__(self) -> str:
        return f"RecentContact({self.contact_id!r})"


@dataclass(frozen=True, slots=True)
class OpenReferral:
    """A referral waiting for acknowledgement, with the contact it came from."""

    referral: StoredReferral
    contact: FirstContact
