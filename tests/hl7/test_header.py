"""The header as read on receipt: the same fields as reading MSH position by position."""

from __future__ import annotations

from adapters.hl7.er7 import Er7Error, Er7Message, separators_of
from adapters.hl7.header import Header, read_header
from tests.hl7.conftest import CORPUS


def by_position(message: Er7Message) -> Header:
    """The header read through the general reader, one position at a time."""
    msh, seps = message.msh, message.seps
    return Header(
        seps=seps,
        sending_application=msh.field(3),
        sending_facility=msh.field(4),
        receiving_application=msh.field(5),
        receiving_facility=msh.field(6),
        message_type=seps.unescape(msh.raw(9, 1, 1)).strip().upper(),
        trigger=seps.unescape(msh.raw(9, 1, 2)).strip().upper(),
        control_id=seps.unescape(msh.raw(10)).strip(),
        processing_id=msh.raw(11),
        version=seps.unescape(msh.raw(12)).strip(),
        accept_ack=seps.unescape(msh.raw(15)).strip().upper(),
        application_ack=seps.unescape(msh.raw(16)).strip().upper(),
    )


def variants(msh: str) -> list[str]:
    sep = msh[3]
    fields = msh.split(sep)
    found = [msh, sep.join(fields[:9]), sep.join(fields[:12]), sep.join(fields[:4])]
    for number, value in (
        (8, "ADT~ORU^R01"),
        (8, "adt^a01&x^ADT_A01"),
        (8, "^A01"),
        (8, "ADT"),
        (8, ""),
        (9, " ID-1 ~ID-2"),
        (9, "ID\\F\\1&sub"),
        (10, "P&T~D"),
        (11, "2.5^GBR&x"),
        (14, "al~ne"),
        (15, "\\E\\ER"),
    ):
        changed = list(fields) + [""] * max(0, number + 1 - len(fields))
        changed[number] = value.replace("^", msh[4]).replace("~", msh[5]).replace("&", msh[7])
        found.append(sep.join(changed))
    return found


def test_the_header_equals_the_msh_read_position_by_position_on_the_corpus() -> None:
    checked = 0
    for path in sorted(CORPUS.glob("*.hl7")):
        text = path.read_bytes().decode("latin-1").replace("\n", "\r")
        first = text.lstrip().split("\r", 1)[0]
        for msh in variants(first):
            message = Er7Message.parse(msh)
            assert read_header(message) == by_position(message), (path.name, msh[:60])
            checked += 1
    assert checked >= 13 * 15


def test_separators_remembered_are_the_ones_declared_and_errors_are_raised_every_time() -> None:
    assert separators_of("MSH|^~\\&|A").component == "^"
    assert separators_of("MSH$%*!@#$A").field == "$"
    assert separators_of("MSH$%*!@#$A").truncation == "#"
    for bad in ("MSH|^~\\|A", "MSHA^~\\&|", "MSH|^~^&|"):
        for _ in range(2):
            try:
                separators_of(bad)
            except Er7Error:
                continue
            raise AssertionError(f"{bad!r} was taken")
