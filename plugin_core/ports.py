"""What adapters may ask of the running service, as a typed port.

Adapters receive it in :class:`plugin_core.plugins.PluginContext` (``context.service``) and
never reach into the store themselves, so the same adapter runs on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from plugin_core.model import Assessment, Decision, FirstContact, Referral


@dataclass(frozen=True, slots=True)
class Accepted:
    """A contact durably recorded (or recognised as already recorded)."""

    contact_id: str
    assessment: Assessment
    duplicate: bool


@dataclass(frozen=True, slots=True)
class ReferralDetails:
    """What a transport needs to write a referral: the contact, its assessment, the decision."""

    contact: FirstContact
    assessment: Assessment
    decision: Decision


class ServicePort(Protocol):
    def accept_contact(self, contact: FirstContact, *, message_key: str | None = None) -> Accepted:
        """Assess and durably commit a contact; returns only after the commit.

        :param message_key: the sender's unique key for the message that carried the contact
            (for HL7, sending facility and MSH-10). A key already seen returns the stored
            assessment with ``duplicate=True`` and records nothing new.
        """
        ...

    def accept_contacts(
        self, items: Sequence[tuple[FirstContact, str | None]]
    ) -> list[Accepted | Exception]:
        """Like :meth:`accept_contact` for several (contact, message key) pairs, committed
        together; results in order. Raises, storing none, when the commit fails."""
        ...

    def use_once(self, key: str, until: datetime) -> bool:
        """True the first time ``key`` is used before ``until``, on any instance; False after.

        For replay protection (a JWT's ``jti``): keys are ids, never patient data.
        """
        ...

    def append_audit(self, kind: str, actor: str, subject: str, details: dict[str, Any]) -> None:
        """Append one entry to the tamper-evident audit trail (ids and codes only, no names)."""
        ...

    def referral_details(self, referral: Referral) -> ReferralDetails | None:
        """The contact, assessment and decision behind a referral, or None if not stored."""
        ...

    def count(self, metric: str, amount: int = 1) -> None:
        """Add to a service counter (for example ``hl7.skipped``) shown on ``/healthz``."""
        ...
