"""REF^I12 referral messages (I13 to modify, I14 to cancel), built and validated with hl7apy.

A referral is rare next to admissions, so here the library's checks are worth their
milliseconds: a message that hl7apy finds structurally invalid is never sent.
MSH-10 is the referral's idempotency key, so a receiver can de-duplicate resends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.validation import Validator

from adapters.hl7.er7 import Separators
from adapters.hl7.errors import Hl7Error
from adapters.hl7.settings import Hl7Settings
from plugin_core.model import (
    Assessment,
    Child,
    Destination,
    FirstContact,
    HouseholdMember,
    Referral,
    ReferralAction,
    Relationship,
    RiskIndicator,
)
from plugin_core.rules.indicators import for_referral

RELATIONSHIP_CODES = {
    Relationship.CHILD: ("CHD", "Child"),
    Relationship.STEPCHILD: ("SCH", "Stepchild"),
    Relationship.FOSTER_CHILD: ("FCH", "Foster child"),
    Relationship.GRANDCHILD: ("GCH", "Grandchild"),
    Relationship.WARD: ("WRD", "Ward of court"),
    Relationship.ADOPTED_CHILD: ("CHD", "Adopted child"),
    Relationship.PARTNERS_CHILD: ("OTH", "Partner's child"),
    Relationship.NIECE_NEPHEW: ("EXF", "Niece or nephew"),
    Relationship.SIBLING: ("SIB", "Sibling"),
    Relationship.OTHER_RELATIVE: ("EXF", "Other relative"),
    Relationship.UNKNOWN: ("UNK", "Unknown"),
}
EVENTS = {  # patient referral (I12), modify (I13), cancel (I14): all in the REF_I12 structure
    ReferralAction.NEW: "I12",
    ReferralAction.UPDATE: "I13",
    ReferralAction.CANCEL: "I14",
}
CODING_SYSTEMS = {
    "http://hl7.org/fhir/sid/icd-10": "I10",
    "http://snomed.info/sct": "SCT",
}


Escape = Callable[[str], str]
_MISSING = re.compile(r"Missing required child [A-Z0-9_.]+")


class ReferralBuildError(Hl7Error, ValueError):
    """hl7apy found the referral message invalid; the reason names the element, not a value."""


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the store knows about the contact behind a referral; ``None`` parts are left out."""

    contact: FirstContact | None = None
    assessment: Assessment | None = None


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

    rf1 = message.rf1
    rf1.rf1_1 = "P^Pending^HL70283"
    rf1.rf1_2 = "S^STAT^HL70280" if referral.urgent else "R^Routine^HL70280"
    rf1.rf1_3 = "SAFEGUARDING^Safeguarding children^L"
    # RF1-6 names the referral the receiver knows; an amendment carries its own id in RF1-11.
    facility = esc(settings.sending_facility)
    rf1.rf1_6 = f"{esc(referral.amends or referral.id)}^{facility}"
    if referral.amends:
        rf1.rf1_11 = f"{esc(referral.id)}^{facility}"
    rf1.rf1_7 = _dtm(referral.created_at)
    rf1.rf1_8 = _dtm(referral.due_by)
    if referral.level_of_need is not None:
        level = referral.level_of_need
        rf1.rf1_10 = f"LEVEL{level}^Level of need {level}^L"

    _provider(message, "RP", "Referring Provider", trust_name, settings.sending_facility, esc)
    name = destination.authority.name if destination.authority else destination.label
    _provider(message, "RT", "Referred to Provider", name, recipient, esc)

    contact, assessment = facts.contact, facts.assessment
    _pid(message, referral, contact, esc)
    children = _children(referral, assessment)
    members = {m.id: m for m in (contact.household or ()) if m.id} if contact else {}
    for index, child in enumerate(children, start=1):
        _nk1(message, index, child, members.get(child.ref), esc)
    indicators = assessment.indicators if assessment else (contact.indicators if contact else ())
    _dg1s(message, for_referral(indicators), esc)
    if referral.reasons:
        nte = message.add_segment("NTE")
        nte.nte_1 = "1"
        nte.nte_2 = "L"
        nte.nte_3 = esc(referral.reasons.replace("\r", " ").replace("\n", " "))
    try:
        Validator.validate(message)
    except Exception as exc:
        # hl7apy names the element for a missing child; other messages may quote a value.
        found = _MISSING.search(str(exc))
        why = found.group(0) if found else type(exc).__name__
        raise ReferralBuildError(f"REF^I12 is not valid: {why}") from None
    text: str = message.to_er7()
    return text + "\r"


def _provider(message: Message, role: str, label: str, name: str, ident: str, esc: Escape) -> None:
    group = message.add_group("REF_I12_PROVIDER_CONTACT")
    prd = group.prd
    prd.prd_1 = f"{role}^{label}^HL70286"
    if name:
        prd.prd_2 = esc(name)
    if ident:
        prd.prd_7 = f"{esc(ident)}^L"  # PLN-2: a local identifier (table 0338)


def _pid(message: Message, referral: Referral, contact: FirstContact | None, esc: Escape) -> None:
    pid = message.add_segment("PID")
    ids: list[str] = []
    if contact is not None:
        person = contact.patient
        if "|" in person.id:
            authority, local = person.id.split("|", 1)
            ids.append(f"{esc(local)}^^^{esc(authority)}^MR")
        if person.nhs_number:
            ids.append(f"{esc(person.nhs_number)}^^^NHS^NH")
        if person.name:
            pid.pid_5 = _xpn(person.name, esc)
        if person.birth_date:
            pid.pid_7 = person.birth_date.strftime("%Y%m%d")
        if person.sex:
            pid.pid_8 = esc(person.sex)
        if person.postcode:
            pid.pid_11 = f"^^^^{esc(person.postcode)}"
    if not ids:
        ids.append(f"{esc(referral.contact_id)}^^^THINKFAMILY^VN")
    if contact is None or not contact.patient.name:
        pid.pid_5 = '""'  # the name is required; "" says it is not known here
    for ident in ids:  # one field instance per repetition: hl7apy does not split on "~"
        pid.add_field("PID_3").value = ident


def _xpn(name: str, esc: Escape) -> str:
    """Family^given from "given family" as the adapters store names."""
    given, _, family = name.rpartition(" ")
    return f"{esc(family)}^{esc(given)}" if given else esc(family)


def _children(referral: Referral, assessment: Assessment | None) -> Sequence[Child]:
    if assessment is None:
        return [
            Child(ref=ref, age=None, relationship=Relationship.CHILD, lives_with_patient=None)
            for ref in referral.child_refs
        ]
    wanted = set(referral.child_refs)
    return [c for c in assessment.children if not wanted or c.ref in wanted]


def _nk1(
    message: Message, index: int, child: Child, member: HouseholdMember | None, esc: Escape
) -> None:
    nk1 = message.add_segment("NK1")
    nk1.nk1_1 = str(index)
    if member is not None and member.name:
        nk1.nk1_2 = _xpn(member.name, esc)
    code, label = RELATIONSHIP_CODES.get(child.relationship, ("OTH", "Other"))
    if child.unborn:
        code, label = "CHD", "Unborn child"
    nk1.nk1_3 = f"{code}^{label}^HL70063"
    if child.postcode:
        nk1.nk1_4 = f"^^^^{esc(child.postcode)}"
    if child.birth_date:
        nk1.nk1_16 = child.birth_date.strftime("%Y%m%d")
    if child.lives_with_patient is not None:
        nk1.nk1_21 = "F" if child.lives_with_patient else "O"


def _dg1s(message: Message, indicators: Sequence[RiskIndicator], esc: Escape) -> None:
    index = 0
    for indicator in indicators:
        if not indicator.code:
            continue
        index += 1
        system = CODING_SYSTEMS.get(indicator.system or "", "L")
        dg1 = message.add_segment("DG1")
        dg1.dg1_1 = str(index)
        label = indicator.kind.value.replace("_", " ")
        dg1.dg1_3 = f"{esc(indicator.code)}^{esc(label)}^{system}"
        dg1.dg1_6 = "W"
