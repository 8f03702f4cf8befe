"""The checks made on receipt, before a message is journaled and acknowledged.

Only what can be told from the header and a glance at the segments, in microseconds: the MSH
(separators, encoding characters), the message type, version, event and control id, and
that a PID is there. Everything else is read later from the journal; what is wrong then is a
content error, recorded and shown to the integrator.
"""

from __future__ import annotations

from adapters.hl7.er7 import Er7Error
from adapters.hl7.errors import (
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    Hl7Invalid,
    Hl7Rejected,
)
from adapters.hl7.header import Header, read_msh
from adapters.hl7.mapping import FIRST_CONTACT_EVENTS, check_header
from plugin_core.contract import ContactSkipped


def header_of(text: str) -> Header:
    """The header, read from the first segment alone; Hl7Rejected when there is none (the
    same header and refusal as ``parse_message`` on that segment: a test proves it)."""
    if text[:3] != "MSH":
        text = text.lstrip()
    end = text.find("\r")
    if end < 0 or "\n" in text[:end]:
        ends = [i for i in (end, text.find("\n")) if i >= 0]
        end = min(ends) if ends else len(text)
    try:
        return read_msh(text[:end])
    except Er7Error as exc:
        raise Hl7Rejected(str(exc), code=SEGMENT_SEQUENCE_ERROR, segment="MSH") from None


def check_received(header: Header, text: str) -> None:
    """Refuse (Hl7Invalid), or skip (ContactSkipped), as the full read would on these grounds."""
    check_header(header)
    if header.trigger not in FIRST_CONTACT_EVENTS:
        raise ContactSkipped(f"ADT^{header.trigger} is not a first contact")
    needle = "PID" + header.seps.field
    if f"\r{needle}" not in text and f"\n{needle}" not in text:
        raise Hl7Invalid("PID: segment is required", code=REQUIRED_FIELD_MISSING, segment="PID")
