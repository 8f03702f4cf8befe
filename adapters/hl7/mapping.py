"""ADT messages to FirstContact: PID, PV1, NK1, DG1, OBX and a trust's own children field.

Reads only the fields it needs through the fast ER7 reader. Every refusal names the segment and
field; none quotes a value, because values here are patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from adapters.hl7.er7 import Er7Error, Er7Message, Segment
from adapters.hl7.errors import (
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION_ID,
    Hl7Invalid,
    Hl7Rejected,
)
from adapters.hl7.header import SUPPORTED_VERSIONS, Header, read_header
from adapters.hl7.settings import ChildrenField, Hl7Settings
from adapters.hl7.values import NHS_NUMBER_OIDS, parse_date, parse_dtm, valid_nhs_number
from plugin_core.contract import ContactSkipped
from plugin_core.model import (
    Encounter,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Person,
    Relationship,
    RiskIndicator,
)
from plugin_core.rules.children import ADULT_AGE, age_on, contact_date
from plugin_core.rules.relationships import read_relationship
from plugin_core.settings.code_lists import CodeLists

FIRST_CONTACT_EVENTS = frozenset({"A01", "A04", "A05", "A08", "A28", "A31"})
PATIENT_CLASSES = {
    "I": "inpatient",
    "E": "emergency",
    "O": "outpatient",
    "P": "preadmit",
    "R": "recurring",
    "B": "obstetrics",
    "C": "commercial",
    "N": "not-applicable",
    "U": "unknown",
}
_YES = frozenset({"Y", "YES", "TRUE", "T"})
_NO = frozenset({"N", "NO", "FALSE", "F", "0", "NONE", "NEG", "NEGATIVE"})
_CODED_TYPES = frozenset({"CE", "CWE", "CNE", "CF"})
_WITHDRAWN_RESULTS = frozenset({"W", "D", "X"})
_APART = frozenset({"A", "I"})  # table 0220: alone, institution
_TOGETHER = frozenset({"F", "R", "S"})  # table 0220: family, relative, spouse only
_DEPENDENT = frozenset({"C", "S", "D", "M", "WU", "CB"})  # table 0223 codes naming a dependant
_MAX_PLACEHOLDER_CHILDREN = 20


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    postcode: str
    line_key: str = ""
    postcode_key: str = ""

    @classmethod
    def of(cls, line: str, postcode: str) -> Address:
        return cls(line, postcode, _squash(line), _squash(postcode))

    def same_home(self, other: Address) -> bool | None:
        """True or False when both postcodes are known; None when either is missing."""
        if not self.postcode_key or not other.postcode_key:
            return None
        same = self.postcode_key == other.postcode_key
        if same and self.line_key and other.line_key:
            return self.line_key == other.line_key
        return same


def _squash(text: str) -> str:
    return "".join(text.upper().split()).replace(",", "")


def decode(data: bytes) -> str:
    """Message text from bytes, MLLP framing removed; UTF-8, else Latin-1 (which never fails)."""
    return decode_text(data)[0]


def decode_text(data: bytes) -> tuple[str, str]:
    """Message text and the codec that read it (to answer in the same one)."""
    if data[:1] == b"\x0b":
        data = data[1:]
    end = data.rfind(b"\x1c")
    if end >= 0:
        data = data[:end]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def parse_message(text: str) -> tuple[Er7Message, Header]:
    """Split a message and read its header; Hl7Rejected when it is not HL7 at all."""
    try:
        message = Er7Message.parse(text)
    except Er7Error as exc:
        raise Hl7Rejected(str(exc), code=SEGMENT_SEQUENCE_ERROR, segment="MSH") from None
    return message, read_header(message)


def check_header(header: Header) -> None:
    """Refuse what this listener does not take: other versions, message types, a missing key."""
    if not header.control_id:
        raise Hl7Rejected(
            "MSH-10: message control id is required",
            code=REQUIRED_FIELD_MISSING,
            segment="MSH",
            field=10,
        )
    if header.version not in SUPPORTED_VERSIONS:
        shown = header.version if _safe_token(header.version) else "this version"
        raise Hl7Rejected(
            f"MSH-12: version {shown} is not supported (2.3 to 2.8)",
            code=UNSUPPORTED_VERSION_ID,
            segment="MSH",
            field=12,
        )
    if header.message_type != "ADT":
        shown = header.message_type if _safe_token(header.message_type) else "this type"
        raise Hl7Rejected(
            f"MSH-9: message type {shown} is not supported (ADT only)",
            code=UNSUPPORTED_MESSAGE_TYPE,
            segment="MSH",
            field=9,
        )
    if not header.trigger:
        raise Hl7Rejected(
            "MSH-9.2: trigger event is required",
            code=UNSUPPORTED_EVENT_CODE,
            segment="MSH",
            field=9,
        )


def _safe_token(text: str) -> bool:
    """Header tokens are echoed in errors only when they look like codes, not free text."""
    return 0 < len(text) <= 8 and all(c.isalnum() or c in "._" for c in text)


def read_contact(
    message: Er7Message,
    header: Header,
    settings: Hl7Settings,
    code_lists: CodeLists,
    *,
    source: str = "hl7",
) -> FirstContact:
    """The first contact an ADT message announces; ContactSkipped when it announces none."""
    check_header(header)
    if header.trigger not in FIRST_CONTACT_EVENTS:
        raise ContactSkipped(f"ADT^{header.trigger} is not a first contact")
    pid = message.first("PID")
    if pid is None:
        raise Hl7Invalid("PID: segment is required", code=REQUIRED_FIELD_MISSING, segment="PID")
    pv1 = message.first("PV1")
    occurred_at = _occurred_at(message, pv1)
    patient, home = _patient(pid, header)
    if patient.birth_date is not None:
        on = contact_date(occurred_at)
        if patient.birth_date > on:
            raise Hl7Invalid("PID-7: date of birth is after the event", segment="PID", field=7)
        if age_on(patient.birth_date, on) < ADULT_AGE:
            raise ContactSkipped("PID-7: the patient is under 18")
    indicators = _indicators(message, code_lists)
    pregnant = True if any(i.kind is IndicatorKind.PREGNANCY for i in indicators) else None
    household = _household(message, home, settings, code_lists, occurred_at)
    return FirstContact(
        id=f"hl7:{header.message_key}",
        occurred_at=occurred_at,
        patient=patient,
        encounter=_encounter(pv1, header),
        household=household,
        indicators=indicators,
        pregnant=pregnant,
        source=source,
    )


def _occurred_at(message: Er7Message, pv1: Segment | None) -> datetime:
    evn = message.first("EVN")
    candidates: list[tuple[str, str]] = []
    if evn is not None:
        candidates += [("EVN-6", evn.raw(6)), ("EVN-2", evn.raw(2))]
    if pv1 is not None:
        candidates.append(("PV1-44", pv1.raw(44)))
    candidates.append(("MSH-7", message.msh.raw(7)))
    for where, raw in candidates:
        if raw:
            return parse_dtm(raw, where)
    raise Hl7Invalid(
        "MSH-7: date/time of message is required",
        code=REQUIRED_FIELD_MISSING,
        segment="MSH",
        field=7,
    )


def _patient(pid: Segment, header: Header) -> tuple[Person, Address | None]:
    local_id = ""
    nhs_number: str | None = None
    for number in (3, 2):
        for rep in range(1, len(pid.repetitions(number)) + 1):
            ident = pid.value(number, rep, 1).strip()
            if not ident:
                continue
            kind = pid.value(number, rep, 5).strip().upper()
            authority = pid.value(number, rep, 4, 1).strip()
            oid = pid.value(number, rep, 4, 2).strip()
            if kind == "NH" or authority.upper() == "NHS" or oid in NHS_NUMBER_OIDS:
                nhs_number = nhs_number or valid_nhs_number(ident)
            elif not local_id:
                local_id = f"{authority or 'local'}|{ident}"
    if not local_id and nhs_number is None:
        raise Hl7Invalid(
            "PID-3: no patient identifier", code=REQUIRED_FIELD_MISSING, segment="PID", field=3
        )
    name = _name(pid, 5)
    home = _address(pid, 11)
    sex = pid.value(8, 1, 1).strip().upper() or None
    person = Person(
        id=local_id or f"hl7-patient:{header.message_key}",
        nhs_number=nhs_number,
        name=name,
        birth_date=parse_date(pid.raw(7, 1, 1), "PID-7"),
        postcode=(home.postcode or None) if home else None,
        sex=sex,
    )
    return person, home


def _name(segment: Segment, number: int) -> str | None:
    """Given then family name, from the legal name (XPN-7 "L") of a name field, else the first."""
    rep = _preferred(segment, number, 7, "L")
    if not rep:
        return None
    family = segment.value(number, rep, 1, 1).strip()
    given = segment.value(number, rep, 2).strip()
    return " ".join(p for p in (given, family) if p) or None


def _preferred(segment: Segment, number: int, type_component: int, wanted: str) -> int:
    """The repetition whose type component is ``wanted`` (home, legal), else the first; 0 if none."""
    count = len(segment.repetitions(number))
    for rep in range(1, count + 1):
        if segment.value(number, rep, type_component).strip().upper() == wanted:
            return rep
    return 1 if count else 0


def _address(segment: Segment, number: int) -> Address | None:
    rep = _preferred(segment, number, 7, "H")
    if not rep:
        return None
    line = segment.value(number, rep, 1, 1).strip()
    postcode = segment.value(number, rep, 5).strip().upper()
    if not line and not postcode:
        return None
    return Address.of(line, postcode)


def _encounter(pv1: Segment | None, header: Header) -> Encounter | None:
    if pv1 is None:
        return None
    kind = PATIENT_CLASSES.get(pv1.value(2).strip().upper(), "unknown")
    visit = pv1.value(19, 1, 1).strip()
    parts = [pv1.value(3, 1, 4, 1), pv1.value(3, 1, 1), pv1.value(3, 1, 2), pv1.value(3, 1, 3)]
    location = "/".join(p.strip() for p in parts if p.strip()) or None
    return Encounter(id=visit or f"hl7-visit:{header.message_key}", kind=kind, location=location)


def _indicators(message: Er7Message, code_lists: CodeLists) -> tuple[RiskIndicator, ...]:
    """Coded entries the lists name; and diagnoses or coded answers in a system nobody can read.

    An OBX-3 identifier names the question (often LOINC), so it counts only when a list names it;
    when it does, OBX-5 is its answer and is not listed when unreadable.
    """
    found: list[RiskIndicator] = []
    for dg1 in message.all("DG1"):
        indicator = _coded(code_lists, dg1, 3, 1, "hl7:DG1-3", listed=True)
        if indicator is not None:
            found.append(indicator)
    for obx in message.all("OBX"):
        if obx.value(11).strip().upper() in _WITHDRAWN_RESULTS:
            continue
        answer = obx.value(5, 1, 1).strip().upper()
        about = _coded(code_lists, obx, 3, 1, "hl7:OBX-3", listed=False)
        if about is not None and answer not in _NO:
            found.append(about)
        if obx.value(2).strip().upper() in _CODED_TYPES:
            for rep in range(1, len(obx.repetitions(5)) + 1):
                value = _coded(code_lists, obx, 5, rep, "hl7:OBX-5", listed=about is None)
                if value is not None:
                    found.append(value)
    return tuple(found)


def _coded(
    code_lists: CodeLists, segment: Segment, number: int, rep: int, source: str, *, listed: bool
) -> RiskIndicator | None:
    """The entry in a CE/CWE field as an indicator: classified by the primary coding, else the
    alternate (CE-4..6). With ``listed``, an entry whose codings are all in unrecognised or
    missing systems comes back as ``other``, to be listed as unclassified."""
    codings = [
        (segment.value(number, rep, 1).strip(), _coding_system(segment, number, rep, 3, 14)),
        (segment.value(number, rep, 4).strip(), _coding_system(segment, number, rep, 6, 17)),
    ]
    codings = [(code, system) for code, system in codings if code]
    for code, system in codings:
        kind = code_lists.classify(system or None, code)
        if kind is not None:
            return RiskIndicator(
                kind=kind, system=code_lists.canonical_system(system), code=code, source=source
            )
    if not listed or not codings or any(code_lists.recognises(s) for _, s in codings):
        return None
    code, system = codings[0]
    return RiskIndicator(IndicatorKind.OTHER, system=system or None, code=code, source=source)


def _coding_system(segment: Segment, number: int, rep: int, name: int, oid: int) -> str:
    """The coding system's name (CWE-3 or -6), else its OID (CWE-14 or -17, HL7 v2.7 on)."""
    return segment.value(number, rep, name).strip() or segment.value(number, rep, oid).strip()


def _household(
    message: Er7Message,
    home: Address | None,
    settings: Hl7Settings,
    code_lists: CodeLists,
    occurred_at: datetime,
) -> tuple[HouseholdMember, ...] | None:
    members = [
        _member(nk1, index, home, settings, code_lists)
        for index, nk1 in enumerate(message.all("NK1"), start=1)
    ]
    on = contact_date(occurred_at)
    known_children = sum(1 for m in members if _is_child(m, on))
    answer = _children_answer(message, settings.children_in_household)
    if answer is None:
        if known_children or (members and settings.nk1_is_household):
            return tuple(members)
        return None  # next of kin alone do not say who lives at home: unknown, not none
    if answer == -1:  # "yes", count not given
        answer = max(1, known_children)
    for extra in range(known_children, min(answer, _MAX_PLACEHOLDER_CHILDREN)):
        members.append(
            HouseholdMember(
                relationship=Relationship.CHILD,
                id=f"recorded-child-{extra + 1}",
                lives_with_patient=True,
                source="hl7:children-in-household",
            )
        )
    return tuple(members)


def _is_child(member: HouseholdMember, on: date) -> bool:
    if member.birth_date is not None:
        return age_on(member.birth_date, on) < ADULT_AGE
    return member.relationship.is_child_kind


def _member(
    nk1: Segment,
    index: int,
    home: Address | None,
    settings: Hl7Settings,
    code_lists: CodeLists,
) -> HouseholdMember:
    relationship, unrecognised = _relationship(nk1, settings, code_lists)
    set_id = nk1.value(1).strip()
    name = _name(nk1, 2)
    address = _address(nk1, 4)
    lives = _lives_with_patient(nk1, address, home)
    try:
        birth_date = parse_date(nk1.raw(16, 1, 1), "NK1-16")
    except Hl7Invalid as exc:
        raise Hl7Invalid(f"{exc.reason} (NK1 number {index})", segment="NK1", field=16) from None
    return HouseholdMember(
        relationship=relationship,
        unrecognised_relationship=unrecognised,
        id=f"NK1-{set_id if set_id.isdigit() else index}",
        name=name,
        birth_date=birth_date,
        lives_with_patient=lives,
        postcode=(address.postcode or None) if address else None,
        source="hl7:NK1",
    )


def _relationship(
    nk1: Segment, settings: Hl7Settings, code_lists: CodeLists
) -> tuple[Relationship, str | None]:
    """NK1-3 by the trust's local codes, then the relationships file; alternate code and text after.

    With nothing recognised the relationship is unknown and the text (else the code) is kept
    to be shown, so the member is asked about rather than dropped.
    """
    given: list[str] = []
    for component in (1, 4, 2, 5):  # identifier, alternate identifier, text, alternate text
        raw = nk1.value(3, 1, component).strip()
        if not raw:
            continue
        given.append(raw)
        known = settings.relationship_codes.get(raw.upper())
        if known is not None:
            return known, None
        found, _ = read_relationship(raw, code_lists)
        if found is not Relationship.UNKNOWN:
            return found, None
    if not given:
        return Relationship.UNKNOWN, None
    text = nk1.value(3, 1, 2).strip() or nk1.value(3, 1, 5).strip() or given[0]
    return read_relationship(text, code_lists)


def _lives_with_patient(nk1: Segment, address: Address | None, home: Address | None) -> bool | None:
    """Same address as the patient; else the living arrangement; else a recorded dependency."""
    if address is not None and home is not None:
        same = address.same_home(home)
        if same is not None:
            return same
    arrangement = nk1.value(21, 1, 1).strip().upper()
    if arrangement in _APART:
        return False
    if arrangement in _TOGETHER:
        return True
    if nk1.value(17, 1, 1).strip().upper() in _DEPENDENT:
        return True
    return None


def _children_answer(message: Er7Message, places: tuple[ChildrenField, ...]) -> int | None:
    """Children recorded as in the household: a count, -1 for "yes", or None when not recorded."""
    for place in places:
        for segment in message.all(place.segment):
            if place.segment == "OBX":
                code = segment.value(3, 1, 1).strip().upper()
                if code != place.observation.upper():
                    continue
            raw = segment.value(place.field, 1, place.component).strip().upper()
            if not raw:
                continue
            if raw in _YES:
                return -1
            if raw in _NO:
                return 0
            if raw.isdigit() and len(raw) <= 3:
                return int(raw)
            raise Hl7Invalid(
                f"{place.segment}-{place.field}: children in household must be Y, N or a number",
                segment=place.segment,
                field=place.field,
            )
    return None
