"""REF^I12 referral messages (I13 to modify, I14 to cancel), built and validated with hl7apy.

A referral is rare next to admissions, so here the library's checks are worth their
milliseconds: a message that hl7apy finds structurally invalid is never sent.
MSH-10 is the referral's idempotency key, so a receiver can de-duplicate resends. The facts
come from the referral dataset (``plugin_core.formats.referral_content``), the same that the
FHIR message and the email carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_message
from hl7apy.validation import Validator

from adapters.hl7.er7 import Separators
from adapters.hl7.errors import Hl7Error
from adapters.hl7.referral_segments import (
    CODING_SYSTEMS,
    RELATIONSHIP_CODES,
    Escape,
    dg1_segments,
    nk1_segment,
    nte_segments,
    pid_segment,
    xpn,
)
from adapters.hl7.settings import Hl7Settings
from plugin_core.formats.referral_content import referral_content
from plugin_core.model import (
    Assessment,
    Decision,
    Destination,
    FirstContact,
    Professional,
    Referral,
    ReferralAction,
)
from plugin_core.rules.escalate import SafeguardingLead

EVENTS = {  # patient referral (I12), modify (I13), cancel (I14): all in the REF_I12 structure
    ReferralAction.NEW: "I12",
    ReferralAction.UPDATE: "I13",
    ReferralAction.CANCEL: "I14",
}

__all__ = [
    "CODING_SYSTEMS",
    "EVENTS",
    "RELATIONSHIP_CODES",
    "ReferralBuildError",
    "ReferralFacts",
    "build_ref_i12",
]

_MISSING = re.compile(r"Missing required child [A-Z0-9_.]+")


class ReferralBuildError(Hl7Error, ValueError):
    """hl7apy found the referral message invalid; the reason names the element, not a value."""


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the store knows behind a referral; ``None`` parts are left out of the message."""

    contact: FirstContact | None = None
    assessment: Assessment | None = None
    decision: Decision | None = None


def _seps(version: str) -> Separators:
    return Separators(truncation="#") if version >= "2.7" else Separators()


def _dtm(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def build_ref_i12(
    referral: Referral,
    destination: Destination,
    settings: Hl7Settings,
    facts: ReferralFacts,
    *,
    trust_name: str,
    at: datetime,
    safeguarding: SafeguardingLead | None = None,
) -> str:
    """The ER7 text of a REF^I12 for one referral, validated by hl7apy at strict level."""
    version = settings.referral_version
    esc = _seps(version).escape_text
    message = Message("REF_I12", version=version, validation_level=VALIDATION_LEVEL.STRICT)
    msh = message.msh
    msh.msh_3 = esc(settings.sending_application)
    msh.msh_4 = esc(settings.sending_facility)
    recipient = destination.authority.id if destination.authority else destination.route.value
    msh.msh_5 = esc(recipient)
    msh.msh_6 = esc(destination.route.value)
    msh.msh_7 = _dtm(at)
    msh.msh_9 = f"REF^{EVENTS[referral.action]}^REF_I12"
    msh.msh_10 = esc(referral.idempotency_key)
    msh.msh_11 = "P"

    content = referral_content(
        referral,
        contact=facts.contact,
        assessment=facts.assessment,
        decision=facts.decision,
        destination=destination,
        trust_name=trust_name,
        safeguarding=safeguarding,
    )
    rf1 = message.rf1
    rf1.rf1_1 = "P^Pending^HL70283"
    urgent = content.urgent or content.immediate_danger
    rf1.rf1_2 = "S^STAT^HL70280" if urgent else "R^Routine^HL70280"
    rf1.rf1_3 = "SAFEGUARDING^Safeguarding children^L"
    # RF1-6 names the referral the receiver knows; an amendment carries its own id in RF1-11.
    facility = esc(settings.sending_facility)
    rf1.rf1_6 = f"{esc(referral.amends or referral.id)}^{facility}"
    if referral.amends:
        rf1.rf1_11 = f"{esc(referral.id)}^{facility}"
    rf1.rf1_7 = _dtm(referral.created_at)
    rf1.rf1_8 = _dtm(referral.due_by)
    if content.level_of_need is not None:
        rf1.rf1_10 = f"LEVEL{content.level_of_need}^{esc(content.level_text)}^L"

    sending = _provider(
        message, "RP", "Referring Provider", trust_name, settings.sending_facility, esc
    )
    reaches = []
    if content.referrer is not None:
        _referrer(sending, content.referrer, esc)
        reaches.append(_reach(content.referrer, esc))
    if content.safeguarding is not None:
        _safeguarding(sending, content.safeguarding, esc)
        reaches.append(_reach(content.safeguarding, esc))
    name = destination.authority.name if destination.authority else destination.label
    _provider(message, "RT", "Referred to Provider", name, recipient, esc)

    pid_segment(message, referral, content.adult, esc)
    for index, child in enumerate(content.children, start=1):
        nk1_segment(message, index, child, esc)
    dg1_segments(message, content.indicators, esc)
    nte_segments(message, content, esc)
    try:
        Validator.validate(message)
        text: str = message.to_er7()
        if any(reaches):
            text = _with_reach(text, reaches)
            Validator.validate(parse_message(text, validation_level=VALIDATION_LEVEL.STRICT))
    except Exception as exc:
        # hl7apy names the element for a missing child; other messages may quote a value.
        found = _MISSING.search(str(exc))
        why = found.group(0) if found else type(exc).__name__
        raise ReferralBuildError(f"REF^I12 is not valid: {why}") from None
    return text + "\r"


def _reach(who: Professional | SafeguardingLead, esc: Escape) -> str:
    """CTD-5: a contact's direct phone and email as XTN repetitions.

    Written as text: hl7apy (1.3) leaves the withdrawn XTN-1 out of its 2.6+ structures and so
    shifts every component one place left when it writes an XTN; the message with this field
    in is parsed back and validated as a whole instead.
    """
    found = []
    if who.phone:  # a work number (WPN), a telephone (PH), written as given (XTN-12)
        found.append("^WPN^PH" + "^" * 9 + esc(who.phone))
    if who.email:  # a network address (NET) on the Internet, the address itself (XTN-4)
        found.append(f"^NET^Internet^{esc(who.email)}")
    return "~".join(found)


def _with_reach(text: str, reaches: list[str]) -> str:
    """Each CTD's phone and email, in the order the CTD segments were written."""
    segments = text.split("\r")
    found = iter(reaches)
    for index, segment in enumerate(segments):
        if segment.startswith("CTD|"):
            reach = next(found, "")
            if not reach:
                continue
            fields = segment.split("|")
            fields += [""] * (6 - len(fields))
            fields[5] = reach
            segments[index] = "|".join(fields)
    return "\r".join(segments)


def _provider(message: Message, role: str, label: str, name: str, ident: str, esc: Escape) -> Any:
    group = message.add_group("REF_I12_PROVIDER_CONTACT")
    prd = group.prd
    prd.prd_1 = f"{role}^{label}^HL70286"
    if name:
        prd.prd_2 = esc(name)
    if ident:
        prd.prd_7 = f"{esc(ident)}^L"  # PLN-2: a local identifier (table 0338)
    return group


def _safeguarding(group: Any, lead: SafeguardingLead, esc: Escape) -> None:
    """A second CTD: the trust's safeguarding lead or team, for when the referrer cannot be
    reached. CTD-1 is the local code ``SG`` whose text is their role; their phone and email
    (CTD-5) are added as the referrer's are."""
    ctd = group.add_segment("CTD")
    ctd.ctd_1 = f"SG^{esc(lead.role or 'Trust safeguarding team')}^L"
    if lead.name:
        ctd.ctd_2 = xpn(lead.name, esc)


def _referrer(group: Any, who: Professional, esc: Escape) -> None:
    """CTD: the professional to contact about the referral, with a direct phone and email.

    CTD-1 is a local code whose text is their role; CTD-4 carries their team as the location's
    description (PL-9); CTD-7 the host's id. Their phone and email (CTD-5) are added to the
    written message by :func:`_reach`.
    """
    ctd = group.add_segment("CTD")
    ctd.ctd_1 = f"RP^{esc(who.role or 'Referring professional')}^L"
    if who.name:
        ctd.ctd_2 = xpn(who.name, esc)
    if who.team:
        ctd.ctd_4 = "^" * 8 + esc(who.team)
    if who.id:
        ctd.ctd_7 = f"{esc(who.id)}^L"
