"""ADT messages to FirstContact: PID, PV1, NK1, DG1, OBX and a trust's own children field.

Reads only the fields it needs through the fast ER7 reader. Every refusal names the segment and
field; none quotes a value, because values here are patient data.
"""

from __future__ import annotations

from datetime import datetime

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
from adapters.hl7.fields import Address, address_of, person_name
from adapters.hl7.header import SUPPORTED_VERSIONS, Header, read_header
from adapters.hl7.household import household
from adapters.hl7.indicators import indicators
from adapters.hl7.settings import Hl7Settings
from adapters.hl7.values import NHS_NUMBER_OIDS, parse_date, parse_dtm, valid_nhs_number
from plugin_core.contract import ContactSkipped
from plugin_core.model import Encounter, FirstContact, IndicatorKind, Person
from plugin_core.rules.children import ADULT_AGE, age_on, contact_date
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
    found = indicators(message, code_lists)
    pregnant = True if any(i.kind is IndicatorKind.PREGNANCY for i in found) else None
    members = household(message, home, settings, code_lists, occurred_at)
    return FirstContact(
        id=f"hl7:{header.message_key}",
        occurred_at=occurred_at,
        patient=patient,
        encounter=_encounter(pv1, header),
        household=members,
        indicators=found,
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
    name = person_name(pid, 5)
    home = address_of(pid, 11)
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


def _encounter(pv1: Segment | None, header: Header) -> Encounter | None:
    if pv1 is None:
        return None
    kind = PATIENT_CLASSES.get(pv1.value(2).strip().upper(), "unknown")
    visit = pv1.value(19, 1, 1).strip()
    parts = [pv1.value(3, 1, 4, 1), pv1.value(3, 1, 1), pv1.value(3, 1, 2), pv1.value(3, 1, 3)]
    location = "/".join(p.strip() for p in parts if p.strip()) or None
    return Encounter(id=visit or f"hl7-visit:{header.message_key}", kind=kind, location=location)
