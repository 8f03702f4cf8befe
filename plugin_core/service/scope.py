"""Whose record a caller may open: the ward or team a contact belongs to, checked on every page
and API call about one contact, the way the worklist is filtered.

A scope is the set of units a caller may see, or None for every unit (safeguarding leads,
administrators, clinicians, the host holding the API token). A unit in scope covers the places
inside it, as the worklist's filter does. A refusal is audited with who asked, the contact's id
and where, never anything about the patient.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Protocol

from plugin_core.model import FirstContact
from plugin_core.service.figures import unit_of
from plugin_core.service.reports import in_scope
from plugin_core.store.records import StoredContact

REFUSED_KIND = "access.refused"
"""The audit entry of a request refused because the contact is outside the caller's units."""


class Reach(StrEnum):
    """What a caller's scope makes of one contact."""

    OPEN = "open"
    UNKNOWN = "unknown"
    """No such contact: the caller is told it is not found, as anyone would be."""
    REFUSED = "refused"


class Contacts(Protocol):
    def contact(self, contact_id: str) -> StoredContact | None: ...

    def append_audit(
        self, kind: str, actor: str, subject: str, details: dict[str, object]
    ) -> None: ...


def contact_unit(contact: FirstContact) -> str:
    """The ward or team a contact counts under: its encounter's location, cut as the worklist
    cuts it."""
    return unit_of(contact.encounter.location if contact.encounter else None)


def reach(service: Contacts, contact_id: str, scope: Collection[str] | None) -> Reach:
    """Whether a caller with ``scope`` may open the contact ``contact_id``."""
    if scope is None:
        return Reach.OPEN  # every unit: nothing to read before the page does
    stored = service.contact(contact_id)
    if stored is None:
        return Reach.UNKNOWN
    return Reach.OPEN if in_scope(contact_unit(stored.contact), scope) else Reach.REFUSED


def audit_refusal(service: Contacts, actor: str, contact_id: str, where: str) -> None:
    """Record that ``actor`` was refused the contact at ``where`` (a route, never a value)."""
    service.append_audit(REFUSED_KIND, actor, contact_id, {"where": where, "reason": "unit"})
