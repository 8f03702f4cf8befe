"""The REF^I12 segments that carry the referral's people and words: PID, NK1, DG1 and NTE.

Each writes fields from the referral dataset; ``build_ref_i12`` validates the whole message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hl7apy.core import Message

from plugin_core.formats.referral_content import ChildEntry, IndicatorEntry, ReferralContent
from plugin_core.model import Person, Referral, ReferralAction, Relationship

Escape = Callable[[str], str]

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
CODING_SYSTEMS = {
    "http://hl7.org/fhir/sid/icd-10": "I10",
    "http://snomed.info/sct": "SCT",
}


def pid_segment(message: Message, referral: Referral, person: Person | None, esc: Escape) -> None:
    """PID: the adult's local and NHS numbers, name, birth date, sex and postcode."""
    pid = message.add_segment("PID")
    ids: list[str] = []
    if person is not None:
        if "|" in person.id:
            authority, local = person.id.split("|", 1)
            ids.append(f"{esc(local)}^^^{esc(authority)}^MR")
        if person.nhs_number:
            ids.append(f"{esc(person.nhs_number)}^^^NHS^NH")
        if person.name:
            pid.pid_5 = xpn(person.name, esc)
        if person.birth_date:
            pid.pid_7 = person.birth_date.strftime("%Y%m%d")
        if person.sex:
            pid.pid_8 = esc(person.sex)
        if person.postcode:
            pid.pid_11 = f"^^^^{esc(person.postcode)}"
    if not ids:
        ids.append(f"{esc(referral.contact_id)}^^^THINKFAMILY^VN")
    if person is None or not person.name:
        pid.pid_5 = '""'  # the name is required; "" says it is not known here
    for ident in ids:  # one field instance per repetition: hl7apy does not split on "~"
        pid.add_field("PID_3").value = ident


def xpn(name: str, esc: Escape) -> str:
    """Family^given from "given family" as the adapters store names."""
    given, _, family = name.rpartition(" ")
    return f"{esc(family)}^{esc(given)}" if given else esc(family)


def nk1_segment(message: Message, index: int, child: ChildEntry, esc: Escape) -> None:
    """NK1: one child concerned, with their relationship to the adult and where they live."""
    nk1 = message.add_segment("NK1")
    nk1.nk1_1 = str(index)
    if child.name:
        nk1.nk1_2 = xpn(child.name, esc)
    code, label = RELATIONSHIP_CODES.get(child.relationship, ("OTH", "Other"))
    if child.unborn:
        code, label = "CHD", "Unborn child"
    nk1.nk1_3 = f"{code}^{label}^HL70063"
    if child.postcode:
        nk1.nk1_4 = f"^^^^{esc(child.postcode)}"
    if child.birth_date and not child.unborn:
        nk1.nk1_16 = child.birth_date.strftime("%Y%m%d")
    # Table 0220: F lives with the family (the adult), U not known; O, elsewhere, is local.
    nk1.nk1_21 = {True: "F", False: "O", None: "U"}[child.lives_with_adult]


def dg1_segments(message: Message, indicators: Sequence[IndicatorEntry], esc: Escape) -> None:
    """A DG1 per risk indicator: coded where the record gave a code, else in words only."""
    for index, indicator in enumerate(indicators, start=1):
        dg1 = message.add_segment("DG1")
        dg1.dg1_1 = str(index)
        words = esc(indicator.words)
        if indicator.code:
            system = CODING_SYSTEMS.get(indicator.system or "", "L")
            dg1.dg1_3 = f"{esc(indicator.code)}^{words}^{system}"
        else:
            dg1.dg1_3 = f"^{words}"
        dg1.dg1_6 = "W"


def nte_segments(message: Message, content: ReferralContent, esc: Escape) -> None:
    """Notes, each typed in NTE-4: the concern, what changed, and what is shared on what basis."""
    notes = [
        ("CONCERN", "Concern", content.concern),
        ("CHANGE", "What has changed", content.change_reasons),
    ]
    if content.action is not ReferralAction.CANCEL:
        notes += [
            ("SHARED", "What is shared", content.what_shared),
            ("BASIS", "Lawful basis", content.basis_text if content.lawful_basis else ""),
            ("CONSENT", "Consent", content.consent_text if content.consent else ""),
            ("NOTSOUGHT", "Why consent was not sought", content.consent_not_sought_reason),
        ]
    index = 0
    for code, label, text in notes:
        if not text:
            continue
        index += 1
        nte = message.add_segment("NTE")
        nte.nte_1 = str(index)
        nte.nte_2 = "L"
        nte.nte_3 = esc(text.replace("\r", " ").replace("\n", " "))
        nte.nte_4 = f"{code}^{label}^L"
