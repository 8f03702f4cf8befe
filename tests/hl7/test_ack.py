"""ACKs from the template are the same text hl7apy writes, for every version and outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hl7apy.base_datatypes import ST
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_message

from adapters.hl7.ack import AckError, acks_for, build_ack
from adapters.hl7.er7 import Separators
from adapters.hl7.header import Header

AT = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
VERSIONS = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"]
CUSTOM = Separators(field="$", component="@", repetition="*", escape="!", subcomponent="%")
ERROR = AckError(101, "PID-3: no patient identifier (see ^field^ & ~rep~ | bar)", "PID", 3)


def header(version: str, seps: Separators, *, enhanced: bool = False) -> Header:
    c = seps.component
    return Header(
        seps=seps,
        sending_application="PAS",
        sending_facility=f"NORTH{c}1.2.3{c}ISO",
        receiving_application="TF",
        receiving_facility="TRUST",
        message_type="ADT",
        trigger="A01",
        control_id="MSG-42",
        processing_id="P",
        version=version,
        accept_ack="AL" if enhanced else "",
        application_ack="NE" if enhanced else "",
    )


def _escape(value: str, seps: Separators) -> str:
    chars = {
        "FIELD": seps.field,
        "COMPONENT": seps.component,
        "SUBCOMPONENT": seps.subcomponent,
        "REPETITION": seps.repetition,
        "ESCAPE": seps.escape,
    }
    text: str = ST(value, validation_level=VALIDATION_LEVEL.TOLERANT).to_er7(chars)
    return text


def hl7apy_ack(h: Header, code: str, error: AckError | None, control_id: str) -> str:
    seps = h.seps
    c, s = seps.component, seps.subcomponent
    chars = {
        "FIELD": seps.field,
        "COMPONENT": c,
        "SUBCOMPONENT": s,
        "REPETITION": seps.repetition,
        "ESCAPE": seps.escape,
        "GROUP": "\r",
        "SEGMENT": "\r",
    }
    v = h.version
    m = Message("ACK", version=v, validation_level=VALIDATION_LEVEL.TOLERANT, encoding_chars=chars)
    m.msh.msh_3 = h.receiving_application
    m.msh.msh_4 = h.receiving_facility
    m.msh.msh_5 = h.sending_application
    m.msh.msh_6 = h.sending_facility
    m.msh.msh_7 = AT.strftime("%Y%m%d%H%M%S+0000")
    m.msh.msh_9 = f"ACK{c}A01" if v == "2.3" else f"ACK{c}A01{c}ACK"
    m.msh.msh_10 = control_id
    m.msh.msh_11 = h.processing_id
    if h.enhanced:
        m.msh.msh_15 = "NE"
        m.msh.msh_16 = "NE"
    m.msa.msa_1 = code
    m.msa.msa_2 = _escape(h.control_id, seps)
    if error is not None:
        if v < "2.7":
            m.msa.msa_3 = _escape(error.reason, seps)
        err = m.add_segment("ERR")
        reason = _escape(error.reason, seps)
        if v < "2.5":
            err.err_1 = f"PID{c}1{c}3{c}101{s}{reason}{s}HL70357"
        else:
            err.err_2 = f"PID{c}1{c}3"
            err.err_3 = f"101{c}Required field missing{c}HL70357"
            err.err_4 = "E"
            err.err_8 = reason
    text: str = m.to_er7()
    return text + "\r"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seps", [Separators(), CUSTOM], ids=["default", "custom"])
@pytest.mark.parametrize(
    ("code", "error"), [("AA", None), ("AE", ERROR), ("AR", ERROR), ("CA", None), ("CR", ERROR)]
)
def test_template_ack_is_the_text_hl7apy_builds(
    version: str, seps: Separators, code: str, error: AckError | None
) -> None:
    h = header(version, seps, enhanced=code.startswith("C"))
    ours = build_ack(h, code, at=AT, error=error, control_id="ACK-1")
    if version == "2.8" and error is not None:
        # hl7apy's 2.8 tables drop the withdrawn ERR-1, and its writer then shifts ERR-2 into
        # position 1; the standard keeps positions, so here hl7apy's reading is the check.
        read = parse_message(
            ours, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False
        ).children
        err = next(seg for seg in read if seg.name == "ERR")
        c = seps.component
        assert err.err_2.to_er7() == f"PID{c}1{c}3"
        assert err.err_3.to_er7() == f"101{c}Required field missing{c}HL70357"
        assert err.err_4.to_er7() == "E"
        assert err.err_8.to_er7() == _escape(ERROR.reason, seps)
        ours = ours.replace(f"\rERR{seps.field}{seps.field}", f"\rERR{seps.field}")
    assert ours == hl7apy_ack(h, code, error, "ACK-1")


def test_original_mode_sends_one_application_ack() -> None:
    acks = acks_for(header("2.5", Separators()), "AA", at=AT, error=None)
    assert len(acks) == 1 and "\rMSA|AA|MSG-42\r" in acks[0]


@pytest.mark.parametrize(
    ("accept", "application", "outcome", "expected"),
    [
        ("AL", "NE", "AA", ["CA"]),
        ("AL", "AL", "AA", ["CA", "AA"]),
        ("NE", "AL", "AE", ["AE"]),
        ("ER", "NE", "AA", []),
        ("ER", "ER", "AR", ["CR", "AR"]),
        ("SU", "SU", "AE", []),
    ],
)
def test_enhanced_mode_sends_the_acks_msh15_and_msh16_ask_for(
    accept: str, application: str, outcome: str, expected: list[str]
) -> None:
    h = Header(
        seps=Separators(),
        control_id="M1",
        version="2.5",
        trigger="A01",
        accept_ack=accept,
        application_ack=application,
    )
    error = None if outcome == "AA" else ERROR
    acks = acks_for(h, outcome, at=AT, error=error)
    assert [a.split("\rMSA|")[1][:2] for a in acks] == expected


def test_ack_to_an_unreadable_message_is_still_valid_er7() -> None:
    unknown = Header(seps=Separators())
    ack = build_ack(unknown, "AR", at=AT, error=AckError(100, "MSH: does not start with MSH"))
    read = parse_message(ack, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
    msa = read.children[1]
    err = read.children[2]
    assert (msa.name, msa.msa_1.to_er7(), msa.msa_2.to_er7()) == ("MSA", "AR", "")
    assert err.err_8.to_er7() == "MSH: does not start with MSH"
