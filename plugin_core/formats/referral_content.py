"""The referral's minimum dataset: one structure that every channel renders.

A front-door worker needs the same facts whichever way a referral arrives (FHIR message, HL7
REF^I12, email, the PDF document), so they are settled here once, from the contact, its
assessment, the decision and the referral, and the channels only lay them out. The shape
follows the multi-agency referral forms local authorities use: the children concerned (only
those the professional chose), the adult, the concern with its level of need and the risk
indicators a referral may carry, what is shared and on what basis, the urgency, the referrer
with how to reach them, and the trust's safeguarding team for when the referrer cannot be
reached (off shift when the authority calls back, or no phone or email given).

Values are copied as they are, not reformatted: a channel that validates (the FHIR models)
then reports a bad value against its own field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from plugin_core.formats.referral_entries import (
    ChildEntry,
    IndicatorEntry,
    child_entries,
    concerned,
    indicator_entries,
)
from plugin_core.formats.referral_text import (
    BASIS_TEXT,
    CONSENT_TEXT,
    INDICATOR_TEXT,
    LADO_TEXT,
    LEVEL_TITLES,
    LIVES_TEXT,
    NOT_GIVEN,
    NOT_RECORDED,
    RELATIONSHIP_TEXT,
    ROUTE_TEXT,
    day,
    level_text,
    london,
)
from plugin_core.model import (
    Assessment,
    Consent,
    Decision,
    Destination,
    FirstContact,
    LadoCriterion,
    LawfulBasis,
    Person,
    Professional,
    Referral,
    ReferralAction,
    Route,
)
from plugin_core.rules.escalate import SafeguardingLead
from plugin_core.rules.indicators import for_referral
from plugin_core.rules.levels import DEFAULT_THRESHOLD, Threshold

__all__ = [
    "BASIS_TEXT",
    "CONSENT_TEXT",
    "INDICATOR_TEXT",
    "LADO_TEXT",
    "LEVEL_TITLES",
    "LIVES_TEXT",
    "NOT_GIVEN",
    "NOT_RECORDED",
    "RELATIONSHIP_TEXT",
    "ROUTE_TEXT",
    "ChildEntry",
    "IndicatorEntry",
    "ReferralContent",
    "as_amended",
    "as_cancelled",
    "concerned",
    "day",
    "level_text",
    "london",
    "referral_content",
]


@dataclass(frozen=True, slots=True)
class ReferralContent:
    """Everything a referral says, settled once; each channel lays it out its own way."""

    referral_id: str
    reference: str
    """The idempotency key: the ThinkFamily reference a receiver de-duplicates on."""
    original_reference: str
    """The reference of the referral this one is, or amends."""
    action: ReferralAction
    amends: str | None
    change_reasons: str
    """For an update or cancellation: why the referral changed."""
    made_at: datetime
    due_by: datetime
    urgent: bool
    immediate_danger: bool
    route: Route
    """The route the decision called for."""
    authority_id: str | None
    authority_name: str
    trust_name: str
    level_of_need: int | None
    concern: str
    children: tuple[ChildEntry, ...]
    adult: Person | None
    indicators: tuple[IndicatorEntry, ...]
    what_shared: str
    lawful_basis: LawfulBasis | None
    consent: Consent | None
    consent_not_sought_reason: str
    referrer: Professional | None
    safeguarding: SafeguardingLead | None = None
    """The trust's safeguarding lead or team: who the authority reaches when the referrer
    cannot be reached."""
    lado_criteria: tuple[LadoCriterion, ...] = ()
    sent_route: Route | None = None
    """Where it goes at the time it is sent: out of hours, the emergency duty team."""
    threshold: Threshold = DEFAULT_THRESHOLD
    """The authority's level-of-need wording and front-door name."""
    amended_at: datetime | None = None
    """For a referral since updated: when the update standing now was made. The content is
    then the update's: the decision as it now stands, not the one first sent."""
    amendment_reference: str = ""
    amendment_reasons: str = ""
    cancelled_at: datetime | None = None
    """For a referral since cancelled: when the cancellation sent to the authority was made."""
    cancellation_reference: str = ""
    cancellation_reasons: str = ""
    withdrawn: bool = False
    """Cancelled before it was sent: the authority never received it."""
    withdrawn_at: datetime | None = None
    """For a referral withdrawn: when. None when not kept (withdrawn before the store kept
    withdrawals: the audit trail has who and why)."""
    withdrawn_by: str = ""
    """The professional's id, as the audit trail names them."""
    withdrawal_reasons: str = ""
    """Why it was withdrawn; when a later decision replaced the one that made it, that
    decision's reasons."""
    replaced_by_decision: str | None = None
    """The later decision whose recording withdrew it, when one did."""

    @property
    def called_off(self) -> bool:
        """Cancelled or withdrawn: nobody should act on this referral now."""
        return self.withdrawn or self.cancelled_at is not None

    @property
    def level_text(self) -> str:
        return level_text(self.level_of_need, self.threshold)

    @property
    def referrer_reach(self) -> tuple[str, ...]:
        """The referrer's direct phone and email, those given."""
        who = self.referrer
        return tuple(p for p in (who.phone, who.email) if p) if who else ()

    @property
    def urgency_text(self) -> str:
        if self.immediate_danger:
            return "Immediate danger"
        return "Urgent" if self.urgent else "Routine"

    @property
    def route_text(self) -> str:
        route = self.sent_route or self.route
        return ROUTE_TEXT.get(route, route.value)

    @property
    def authority_text(self) -> str:
        return self.authority_name or self.authority_id or "Local authority not confirmed"

    @property
    def basis_text(self) -> str:
        if self.lawful_basis is None:
            return NOT_GIVEN
        return f"{BASIS_TEXT[self.lawful_basis]} (UK GDPR Article 6)"

    @property
    def consent_text(self) -> str:
        return CONSENT_TEXT[self.consent] if self.consent else NOT_RECORDED

    @property
    def headline_route(self) -> str:
        """The route, with the front door's own name when the authority gives one."""
        name = self.threshold.front_door_name
        if name and (self.sent_route or self.route) is Route.FRONT_DOOR:
            return f"{name} ({self.route_text})"
        return self.route_text

    @property
    def headline(self) -> str:
        """Urgency, level, authority and route on one line."""
        return " · ".join(
            (self.urgency_text, self.level_text, self.authority_text, self.headline_route)
        )

    def __repr__(self) -> str:
        return f"ReferralContent(referral_id={self.referral_id!r})"


def referral_content(
    referral: Referral,
    *,
    contact: FirstContact | None = None,
    assessment: Assessment | None = None,
    decision: Decision | None = None,
    destination: Destination | None = None,
    trust_name: str = "",
    safeguarding: SafeguardingLead | None = None,
) -> ReferralContent:
    """The dataset of one referral; parts whose source is not known are left empty."""
    adult = contact.patient if contact is not None else None
    indicators = assessment.indicators if assessment else (contact.indicators if contact else ())
    change = referral.reasons if referral.action is not ReferralAction.NEW else ""
    return ReferralContent(
        referral_id=referral.id,
        reference=referral.idempotency_key,
        original_reference=referral.original_key,
        action=referral.action,
        amends=referral.amends,
        change_reasons=change,
        made_at=referral.created_at,
        due_by=referral.due_by,
        urgent=referral.urgent,
        immediate_danger=decision.immediate_danger if decision else False,
        route=referral.route,
        sent_route=destination.route if destination else None,
        authority_id=referral.authority_id,
        authority_name=_authority_name(referral, assessment, destination),
        trust_name=trust_name,
        level_of_need=referral.level_of_need,
        concern=(decision.reasons if decision else "") or (referral.reasons if not change else ""),
        children=child_entries(referral, contact, assessment, adult),
        adult=adult,
        indicators=indicator_entries(for_referral(indicators)),
        what_shared=decision.what_shared if decision else "",
        lawful_basis=(decision.lawful_basis if decision else None) or referral.lawful_basis,
        consent=decision.consent if decision else None,
        consent_not_sought_reason=decision.consent_not_sought_reason if decision else "",
        referrer=decision.decided_by if decision else None,
        safeguarding=safeguarding,
        lado_criteria=decision.lado_criteria if decision else (),
        threshold=(destination.threshold if destination else None) or DEFAULT_THRESHOLD,
    )


def as_amended(current: ReferralContent, original: Referral) -> ReferralContent:
    """The update ``current`` told as the referral ``original`` now stands: the original's
    reference and when it was made, the update's decision, level and children, and when and
    why it was amended."""
    return replace(
        current,
        referral_id=original.id,
        reference=original.idempotency_key,
        original_reference=original.original_key,
        action=ReferralAction.NEW,
        amends=None,
        change_reasons="",
        made_at=original.created_at,
        amended_at=current.made_at,
        amendment_reference=current.reference,
        amendment_reasons=current.change_reasons,
    )


def as_cancelled(current: ReferralContent, cancellation: Referral) -> ReferralContent:
    """``current`` marked as called off by ``cancellation``: when, why and under what
    reference the authority was told."""
    return replace(
        current,
        cancelled_at=cancellation.created_at,
        cancellation_reference=cancellation.idempotency_key,
        cancellation_reasons=cancellation.reasons,
    )


def _authority_name(
    referral: Referral, assessment: Assessment | None, destination: Destination | None
) -> str:
    if destination is not None and destination.authority is not None:
        return destination.authority.name
    found = assessment.authority.authority if assessment else None
    if found is not None and found.id == referral.authority_id:
        return found.name
    return ""
