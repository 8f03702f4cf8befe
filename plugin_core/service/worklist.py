"""The worklist of a ward or team: what is waiting, as rows a page lists.

Each row names the adult only as the professional needs to find them (name, or the host's
id when there is no name, and where they are); never the NHS number, date of birth, address
or the children.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugin_core.model import FirstContact, PromptCode, ReferralStatus
from plugin_core.service.figures import unit_of
from plugin_core.store.records import StoredContact
from plugin_core.store.report_facts import OpenReferral, RecentContact


class Waiting(StrEnum):
    """What a worklist row waits for."""

    HOUSEHOLD = "household"
    """The household question: who lives with the adult."""
    DECISION = "decision"
    """A decision whether to share, for a contact whose prompts were shown."""
    ACKNOWLEDGEMENT = "acknowledgement"
    """A referral the receiving authority has not yet acknowledged."""
    REVIEW = "review"
    """An adult seen since their children were last considered (or never considered)."""


@dataclass(frozen=True, slots=True)
class WorkItem:
    waiting: Waiting
    contact_id: str
    patient: str
    """The adult's name, or ``Patient`` and the host's id when the record has no name."""
    location: str
    unit: str
    since: datetime
    """When the contact was received (for a referral: when it was made)."""
    severity: str | None = None
    """The highest prompt severity (``info``, ``warning``, ``critical``), for contacts."""
    status: ReferralStatus | None = None
    route: str | None = None
    due_by: datetime | None = None
    overdue: bool = False
    last_considered: datetime | None = None
    """For a review: when a decision was last recorded for the adult; None when never."""
    referral_id: str | None = None
    """For a referral: its id, so the page can link to its phone call."""

    def __repr__(self) -> str:
        return f"WorkItem({self.waiting.value!r}, contact_id={self.contact_id!r})"


@dataclass(frozen=True, slots=True)
class Worklist:
    items: tuple[WorkItem, ...]
    units: tuple[str, ...]
    """Every ward or team the caller may choose from, for the filter."""
    unit: str | None
    waiting: Waiting | None


def patient_label(contact: FirstContact) -> str:
    return contact.patient.name or f"Patient {contact.patient.id}"


def _place(contact: FirstContact) -> tuple[str, str]:
    location = contact.encounter.location if contact.encounter else None
    return location or "", unit_of(location)


def contact_items(contacts: Iterable[StoredContact]) -> list[WorkItem]:
    """Open contacts: the household question first when it is asked, else a decision."""
    items = []
    for stored in contacts:
        waiting = (
            Waiting.HOUSEHOLD
            if PromptCode.RECORD_HOUSEHOLD.value in stored.prompt_codes
            else Waiting.DECISION
        )
        location, unit = _place(stored.contact)
        items.append(
            WorkItem(
                waiting,
                stored.id,
                patient_label(stored.contact),
                location,
                unit,
                stored.received_at,
                severity=stored.top_severity,
            )
        )
    return items


def referral_items(referrals: Iterable[OpenReferral], now: datetime) -> list[WorkItem]:
    items = []
    for found in referrals:
        referral = found.referral.referral
        if referral.amends is not None:
            continue  # an update or cancellation travels for a referral already listed
        location, unit = _place(found.contact)
        items.append(
            WorkItem(
                Waiting.ACKNOWLEDGEMENT,
                referral.contact_id,
                patient_label(found.contact),
                location,
                unit,
                referral.created_at,
                status=found.referral.status,
                route=referral.route.value,
                due_by=referral.due_by,
                overdue=referral.due_by <= now,
                referral_id=referral.id,
            )
        )
    return items


def review_items(
    recent: Iterable[RecentContact],
    last_considered: dict[str, datetime],
    key: dict[str, str],
    waiting: Collection[str] = (),
) -> list[WorkItem]:
    """One row per adult whose latest contact came after their last decision (or who has
    none), never-considered first, then the longest since.

    :param recent: contacts, newest first.
    :param key: the adult's re-check key by host patient id.
    :param waiting: contacts already listed as waiting: their adults are left out.
    """
    seen: set[str] = set()
    items = []
    for contact in recent:
        if contact.patient_id in seen:
            continue
        seen.add(contact.patient_id)
        if contact.contact_id in waiting:
            continue
        considered = last_considered.get(key[contact.patient_id])
        if considered is not None and considered >= contact.received_at:
            continue
        items.append(
            WorkItem(
                Waiting.REVIEW,
                contact.contact_id,
                contact.patient_name or f"Patient {contact.patient_id}",
                contact.location or "",
                unit_of(contact.location),
                contact.received_at,
                last_considered=considered,
            )
        )
    items.sort(key=lambda i: (i.last_considered is not None, i.last_considered or i.since))
    return items
