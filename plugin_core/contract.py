"""What a plugin author needs besides the hook specs: the context, the service port, the
listener shape and the error root.

A leaf module: it imports only the error root, the model and the host-channel types of
:mod:`plugin_core.contract_channels`, so ``hooks.specs`` and every adapter can name these
types without a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from plugin_core.contract_channels import HostChannel, RouteCheck, RouteContact
from plugin_core.errors import ThinkFamilyError
from plugin_core.model import (
    Assessment,
    Decision,
    FirstContact,
    Prompt,
    Referral,
)

if TYPE_CHECKING:  # pragma: no cover - types only
    from plugin_core.settings.config import TrustConfig

__all__ = [
    "Accepted",
    "AuditNote",
    "ContactInvalid",
    "ContactRejected",
    "ContactSkipped",
    "HostChannel",
    "Listener",
    "PluginContext",
    "PluginError",
    "ReceivedMessage",
    "ReferralDetails",
    "RouteCheck",
    "RouteContact",
    "ServeOptions",
    "ServicePort",
    "ShownError",
    "ThinkFamilyError",
]


# Errors ---------------------------------------------------------------------------------------


class ShownError(ThinkFamilyError):
    """An error raised on purpose for the caller to show or answer with.

    A plugin's exception of this family passes through the hook facade unchanged (its message
    is written to be shown); any other exception, of ours or not, becomes a
    :class:`PluginError` naming the plugin.
    """


class PluginError(ShownError, RuntimeError):
    """A plugin raised or returned something the contract does not allow.

    The message names the plugin, the hook and the class of what the plugin raised, only:
    ``plugin 'acme-ehr' failed in thinkfamily_household: RuntimeError``. The plugin's own
    exception is kept as ``__cause__`` and its text is never repeated, because it might hold
    patient details.

    :ivar plugin: the plugin's registered name (``unknown`` when it cannot be told).
    :ivar hook: the hook it failed in.
    :ivar error: the class name of the exception the plugin raised, or ``PluginError`` when
        ThinkFamily found the fault itself (an answer of the wrong type, a hook wrapper).
    :ivar reason: what is wrong, in words ThinkFamily wrote (type and field names only).
    :ivar field: for a ``ModelError``, the field the plugin built wrongly
        (``HouseholdMember.relationship``); otherwise ``None``.
    """

    def __init__(
        self,
        plugin: str,
        hook: str,
        reason: str,
        *,
        error: str = "PluginError",
        field: str | None = None,
    ) -> None:
        self.plugin = plugin
        self.hook = hook
        self.reason = reason
        self.error = error
        self.field = field
        super().__init__(f"plugin {plugin!r} failed in {hook}: {reason}")


class ContactInvalid(ShownError, ValueError):
    """The input is in a plugin's format but cannot be read as a contact.

    Messages raised by plugins on purpose are shown to senders and operators: they say what is
    wrong and where (segment and field, JSON path) without quoting any patient's value.
    """


class ContactRejected(ContactInvalid):
    """The input is readable but not acceptable (unsupported version or event, too large)."""


class ContactSkipped(ShownError):
    """The input is valid but is not a first contact for an adult; it is acknowledged and counted."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# The service port -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """A contact durably recorded (or recognised as already recorded)."""

    contact_id: str
    assessment: Assessment
    duplicate: bool
    suppressed_by: str | None = None
    """The decision whose re-check period covers this contact: its prompts are not to be shown."""
    changes: tuple[str, ...] = ()
    """What is new since the adult's decision in its re-check period (``new-child`` and so on)."""
    reused: bool = False
    """An open contact of the same encounter answered again; no new contact was recorded."""
    conflict: bool = False
    """The message key (or the contact id) is already held by a different message: nothing
    was recorded and the message was kept for review. Tell the sender it was not accepted."""

    @property
    def prompts_to_show(self) -> tuple[Prompt, ...]:
        """The prompts to put in front of the professional: none when they are suppressed."""
        return () if self.suppressed_by is not None else self.assessment.prompts


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """The message a contact came in, given with its message key so that a resend can be told
    from a different message sent under the same key.

    ``digest`` is the adapter's fingerprint of the message: equal for what it counts as the
    same message. ``text`` is the message as received; it holds patient data, so it is stored
    like a contact and never logged.
    """

    digest: str
    text: str

    def __repr__(self) -> str:
        return f"ReceivedMessage(digest={self.digest[:12]!r})"


@dataclass(frozen=True, slots=True)
class ReferralDetails:
    """What a transport needs to write a referral: the contact, its assessment, the decision."""

    contact: FirstContact
    assessment: Assessment
    decision: Decision


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit entry an adapter asks to be written with its contact: ids and codes only."""

    kind: str
    actor: str
    details: dict[str, Any]


class ServicePort(Protocol):
    """What adapters may ask of the running service; they never reach into the store."""

    def accept_contact(
        self,
        contact: FirstContact,
        *,
        message_key: str | None = None,
        encounter_key: str | None = None,
        message: ReceivedMessage | None = None,
    ) -> Accepted:
        """Assess and durably commit a contact; returns only after the commit.

        :param message_key: the sender's unique key for the message that carried the contact
            (for HL7, sending facility and MSH-10). A key already seen returns the stored
            assessment with ``duplicate=True`` and records nothing new.
        :param message: the message itself, when the sender may reuse a key: a key (or contact
            id) already held by a message with another digest returns ``conflict=True``,
            records no contact and keeps the message for review.
        :param encounter_key: the caller's name for the encounter, when repeated calls in one
            encounter should reuse its open contact: while one is open with the same facts and
            prompts, it is returned with ``reused=True`` and nothing new is recorded.

        Within the trust's re-check period after a decision for the same adult, a contact with
        nothing new is recorded with ``suppressed_by`` set: show none of its prompts.
        """
        ...

    def accept_contacts(
        self,
        items: Sequence[tuple[FirstContact, str | None]],
        *,
        messages: Sequence[ReceivedMessage | None] | None = None,
    ) -> list[Accepted | Exception]:
        """Like :meth:`accept_contact` for several (contact, message key) pairs, committed
        together; results in order. Raises, storing none, when the commit fails.

        :param messages: the message of each item, in the same order (see ``message``)."""
        ...

    def unit(self) -> AbstractContextManager[object]:
        """``with port.unit():`` commits every write made in the block together at its end.

        Calls inside return before their writes are durable: answer only after the block.
        An exception out of the block writes nothing of it. Enter and leave in one thread.
        """
        ...

    def accept_hook_call(
        self,
        contact: FirstContact,
        *,
        once_key: str,
        once_until: datetime,
        message_key: str,
        encounter_key: str | None,
        audit: Callable[[Accepted], AuditNote | None],
    ) -> Accepted | None:
        """Like :meth:`accept_contact` for one decision-support call, with everything it writes
        in one transaction: ``once_key`` used (see :meth:`use_once`), the contact, and the
        entry ``audit`` makes from the result (subject: the contact), if any.

        Returns None, writing nothing, when ``once_key`` was already used.
        """
        ...

    def use_once(self, key: str, until: datetime) -> bool:
        """True the first time ``key`` is used before ``until``, on any instance; False after:
        replay protection (a JWT's ``jti``). Keys are ids, never patient data."""
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


class Listener(Protocol):
    """What the ``thinkfamily_listeners`` hook returns: started and stopped with the service.

    A ``name`` attribute, when present, names the listener in logs (else its class name). A
    ``health()`` method, when present, returns a JSON-ready dict shown on ``/healthz`` under
    ``listeners``; ``"status": "degraded"`` in it makes the service's status degraded.
    """

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


# The context ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where ``thinkfamily serve`` was asked to listen: its ``--host`` and MLLP port."""

    host: str
    mllp_port: int


@dataclass(frozen=True, eq=False)
class PluginContext:
    """The one context every plugin is given, through ``thinkfamily_configure``.

    Built before any plugin is configured and the same object for built-in and installed
    plugins alike. Each plugin reads its own settings from ``config`` (``config.section``).

    :ivar config: the loaded trust configuration.
    :ivar service: the running service, or ``None`` outside ``thinkfamily serve`` (for
        example in ``thinkfamily assess``); adapters must not assume it.
    :ivar serve: where ``thinkfamily serve`` listens, or ``None`` when not serving.
    """

    config: TrustConfig
    service: ServicePort | None = None
    serve: ServeOptions | None = None
