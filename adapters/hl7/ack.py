"""Acknowledgements (ACK) written from a template, in the sender's separators and version.

Building an ACK with hl7apy costs milliseconds; this template costs microseconds and the tests
prove it writes the same ER7 as hl7apy for every version and outcome.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.hl7.er7 import Separators
from adapters.hl7.header import Header

_TO_ACCEPT = {"AA": "CA", "AE": "CE", "AR": "CR"}
_FALLBACK_VERSION = "2.5"

_counter = itertools.count(1)
_prefix = f"{int(time.time()) % 10**6:06d}{os.getpid() % 100:02d}"


def next_control_id() -> str:
    """A control id for our own messages: unique in this process, 20 characters at most."""
    return f"TF{_prefix}{next(_counter) % 10**10:010d}"


@dataclass(frozen=True, slots=True)
class AckError:
    """Why a message was not accepted, for MSA-3 and ERR (HL7 table 0357 code)."""

    code: int
    reason: str
    segment: str = ""
    field: int = 0


_CODE_TEXT = {
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    201: "Unsupported event code",
    202: "Unsupported processing id",
    203: "Unsupported version id",
    205: "Duplicate key identifier",
    207: "Application internal error",
}


_last_stamp: tuple[datetime | None, str] = (None, "")


def _stamp(at: datetime) -> str:
    """MSH-7 for ``at``: the same text for every ACK in one second, so written once."""
    global _last_stamp
    second = at.replace(microsecond=0)
    seen, text = _last_stamp
    if seen != second or seen is None or seen.tzinfo is not second.tzinfo:
        text = at.strftime("%Y%m%d%H%M%S%z")
        _last_stamp = (second, text)
    return text


def _segment(seps: Separators, name: str, fields: list[str]) -> str:
    while fields and not fields[-1]:
        fields.pop()
    return seps.field.join([name, *fields])


@functools.lru_cache(maxsize=256)
def _version_at_least(version: str, floor: tuple[int, ...]) -> bool:
    try:
        parts = tuple(int(p) for p in version.split("."))
    except ValueError:
        return False
    return parts >= floor


def build_ack(
    header: Header,
    code: str,
    *,
    at: datetime,
    error: AckError | None = None,
    control_id: str | None = None,
) -> str:
    """One ACK message (segments ended by CR) answering ``header`` with ``code``.

    ``code`` is an application code (AA, AE, AR) or an accept code (CA, CE, CR).
    """
    if error is None and control_id is None and header.control_id:
        return _from_template(header, code, _stamp(at))
    return _build(header, code, _stamp(at), control_id or next_control_id(), error)


_STAMP, _OURS, _THEIRS = "\x00S\x00", "\x00O\x00", "\x00T\x00"
"""Places in a template for MSH-7, our control id and theirs (no header field holds NUL)."""
_templates: dict[tuple[object, ...], tuple[str, str, str]] = {}


def _from_template(header: Header, code: str, stamp: str) -> str:
    """An ACK without an error, from the text ``_build`` writes for the same sender, version
    and code: only the time and the two control ids differ from one message to the next."""
    key = (
        header.seps,
        header.sending_application,
        header.sending_facility,
        header.receiving_application,
        header.receiving_facility,
        header.trigger,
        header.processing_id,
        header.version,
        header.accept_ack,
        header.application_ack,
        code,
    )
    parts = _templates.get(key)
    if parts is None:
        seps = header.seps
        if any("\x00" in str(value) for value in (*key[1:], seps.field, seps.encoding_characters)):
            return _build(header, code, stamp, next_control_id(), None)
        if len(_templates) >= 256:
            _templates.clear()
        text = _build(replace(header, control_id=_THEIRS), code, _STAMP, _OURS, None)
        head, _, rest = text.partition(_STAMP)
        middle, _, tail = rest.partition(_OURS)
        parts = _templates[key] = (head, middle, tail.replace(_THEIRS, "\x00"))
    head, middle, tail = parts
    theirs = header.seps.escape_text(header.control_id)
    return head + stamp + middle + next_control_id() + tail.replace("\x00", theirs)


def _build(header: Header, code: str, stamp: str, control_id: str, error: AckError | None) -> str:
    seps = header.seps
    c = seps.component
    version = header.version if _version_at_least(header.version, (2, 3)) else _FALLBACK_VERSION
    if not header.version or not all(ch.isdigit() or ch == "." for ch in header.version):
        version = _FALLBACK_VERSION
    trigger = header.trigger if header.trigger.isalnum() and len(header.trigger) <= 3 else ""
    message_type = f"ACK{c}{trigger}" if trigger else "ACK"
    if _version_at_least(version, (2, 3, 1)):
        message_type = f"ACK{c}{trigger}{c}ACK"
    enhanced = "NE" if header.enhanced else ""
    msh = _segment(
        seps,
        "MSH",
        [
            seps.encoding_characters,
            header.receiving_application,
            header.receiving_facility,
            header.sending_application,
            header.sending_facility,
            stamp,
            "",
            message_type,
            control_id,
            header.processing_id or "P",
            version,
            "",
            "",
            enhanced,
            enhanced,
        ],
    )
    text = ""
    if error is not None and not _version_at_least(version, (2, 7)):
        text = seps.escape_text(error.reason)
    msa = _segment(seps, "MSA", [code, seps.escape_text(header.control_id), text])
    segments = [msh, msa]
    if error is not None:
        segments.append(_err(seps, version, error))
    return "\r".join(segments) + "\r"


def _err(seps: Separators, version: str, error: AckError) -> str:
    c, s = seps.component, seps.subcomponent
    reason = seps.escape_text(error.reason)
    label = _CODE_TEXT.get(error.code, "Error")
    location = [
        error.segment,
        "1" if error.segment else "",
        str(error.field) if error.field else "",
    ]
    if not _version_at_least(version, (2, 5)):
        eld = c.join([*location, s.join([str(error.code), reason, "HL70357"])])
        return _segment(seps, "ERR", [eld])
    erl = c.join(location).rstrip(c)
    return _segment(
        seps,
        "ERR",
        ["", erl, c.join([str(error.code), label, "HL70357"]), "E", "", "", "", reason],
    )


def accept_code(application_code: str) -> str:
    """The enhanced-mode accept code (CA, CE, CR) for an application outcome."""
    return _TO_ACCEPT[application_code]


def wanted(condition: str, success: bool) -> bool:
    """Whether an MSH-15/16 condition (AL, NE, ER, SU; empty means always) asks for this ACK."""
    if condition in ("", "AL"):
        return True
    if condition == "NE":
        return False
    if condition == "ER":
        return not success
    if condition == "SU":
        return success
    return True


def acks_for(
    header: Header,
    application_code: str,
    *,
    at: datetime,
    error: AckError | None,
    deferred: bool = False,
) -> list[str]:
    """The ACKs to send back on the connection, in order.

    Original mode: one application ACK. Enhanced mode: the accept ACK (CA/CE/CR) when MSH-15
    asks, then the application ACK when MSH-16 asks. A CA, like an AA, is sent only once the
    message is durably committed: the contact, or (acknowledging on receipt) the message in
    the journal. ``deferred``: the message was journaled, so in enhanced mode its application
    ACK waits for processing (see :mod:`adapters.hl7.app_acks`).
    """
    if not header.enhanced:
        return [build_ack(header, application_code, at=at, error=error)]
    success = application_code == "AA"
    out: list[str] = []
    if wanted(header.accept_ack, success):
        out.append(build_ack(header, accept_code(application_code), at=at, error=error))
    if not deferred and wanted(header.application_ack, success):
        out.append(build_ack(header, application_code, at=at, error=error))
    return out
