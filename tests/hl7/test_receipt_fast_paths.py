"""The shortcuts taken for every message received give what the general code gives.

Acknowledging on receipt, the listener reads the header, works out the digest, cuts the frame
and writes the ACK for each message; each of these has a short way for the usual message. Here
each short way is compared with the general one on the corpus, on rewritten and mutated copies
of it, and on random input.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.hl7 import ack as ack_module
from adapters.hl7.ack import AckError, _build, _stamp, build_ack
from adapters.hl7.digest import _normalised, normalised
from adapters.hl7.er7 import Er7Error, Er7Message
from adapters.hl7.errors import SEGMENT_SEQUENCE_ERROR, Hl7Invalid
from adapters.hl7.framing import FrameDecoder, frame
from adapters.hl7.header import Header
from adapters.hl7.ingest import Outcome
from adapters.hl7.receipt import header_of
from plugin_core.contract import ReceivedMessage
from plugin_core.store.journal_records import _HEAD, _LENGTHS, MAGIC, Record, decode, encode
from tests.hl7.conftest import CORPUS
from tests.hl7.test_fuzz import mutated
from tests.hl7.test_header import by_position, variants

TEXTS = [p.read_bytes().decode("latin-1") for p in sorted(CORPUS.glob("*.hl7"))]
AT = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
WHITE = [chr(c) for c in range(0x3000 + 1) if chr(c).isspace() and chr(c) not in "\r\n"]


def header_by_full_parse(text: str) -> Header | tuple[str, str, int]:
    """The first segment read through the general reader, field by field, or the refusal
    ``parse_message`` makes of it."""
    text = text.lstrip()
    ends = [i for i in (text.find("\r"), text.find("\n")) if i >= 0]
    try:
        return by_position(Er7Message.parse(text[: min(ends)] if ends else text))
    except Er7Error as exc:
        return ("Hl7Rejected", str(exc), SEGMENT_SEQUENCE_ERROR)


def header_on_receipt(text: str) -> Header | tuple[str, str, int]:
    try:
        return header_of(text)
    except Hl7Invalid as exc:
        return (type(exc).__name__, exc.reason, exc.code)


def rewritten(text: str) -> list[str]:
    """A message as engines rewrite it, and as careless ones break it."""
    text = text.replace("\n", "\r")
    sep = text[3] if text.startswith("MSH") else "|"
    first, _, rest = text.partition("\r")
    msh = first.split(sep)
    found = [
        text,
        text.rstrip("\r"),
        text + "\r",
        text.replace("\r", "\r\n"),
        text.replace("\r", "\n"),
        "  " + text,
        "\r" + text,
        text.replace("\r", f"{sep}{sep}\r", 2),
        text.replace("\r", "\r\r", 3),
        text.rstrip("\r") + sep,
        sep.join(msh[:6]) + "\r" + rest,
        sep.join(msh[:7]) + "\r" + rest,
        sep.join(msh[:7]) + sep + "\r" + rest,
        f"{first}\r{sep}{sep}\r{rest}",
        first,
    ]
    found += [text.replace("\r", f"\r{white}\r", 1) for white in WHITE]
    found += [text.replace("\r", f"\r{white}", 2) for white in (" ", "\t", "\u3000")]
    found += [f"{text}{white}" for white in (" ", "\u2028")]
    return found


def test_the_header_read_on_receipt_equals_the_full_parse_of_the_first_segment() -> None:
    checked = 0
    for text in TEXTS:
        first, _, rest = text.replace("\n", "\r").lstrip().partition("\r")
        for msh in variants(first):
            for candidate in (msh, msh + "\r" + rest, msh + "\n" + rest, " \r\n" + msh):
                assert header_on_receipt(candidate) == header_by_full_parse(candidate)
                checked += 1
        for candidate in rewritten(text):
            assert header_on_receipt(candidate) == header_by_full_parse(candidate)
    for broken in ("", "   ", "PID|1", "MSH", "MSH|^~", "MSH|^~\\&", "MSH|^~^&|A", "BHS|^~\\&|A|B"):
        assert header_on_receipt(broken) == header_by_full_parse(broken)
    assert checked >= 13 * 15 * 4


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_the_header_read_on_receipt_equals_the_full_parse_on_mutated_messages(data: bytes) -> None:
    text = data.decode("latin-1")
    assert header_on_receipt(text) == header_by_full_parse(text)


def test_the_digest_of_a_tidy_message_equals_the_general_normalisation() -> None:
    for text in TEXTS:
        for candidate in rewritten(text):
            assert normalised(candidate) == _normalised(candidate), repr(candidate[:40])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_the_digest_of_a_mutated_message_equals_the_general_normalisation(data: bytes) -> None:
    text = data.decode("latin-1")
    assert normalised(text) == _normalised(text)


@pytest.mark.parametrize("code", ["AA", "AE", "AR", "CA", "CE", "CR"])
def test_an_ack_from_the_template_equals_the_ack_built_in_full(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ack_module, "next_control_id", lambda: "TF0000000000000042")
    checked = 0
    for text in TEXTS:
        first = text.replace("\n", "\r").lstrip().split("\r", 1)[0]
        for msh in variants(first):
            try:
                header = header_of(msh)
            except Hl7Invalid:
                continue
            for version in (header.version, "2.3", "2.3.1", "2.5", "2.7", "2.8", "", "x"):
                h = replace(header, version=version)
                full = _build(h, code, _stamp(AT), "TF0000000000000042", None)
                assert build_ack(h, code, at=AT) == full
                assert build_ack(h, code, at=AT) == full  # the template now remembered
                checked += 1
    assert checked >= 13 * 8


def test_an_ack_with_an_error_or_our_own_control_id_is_built_in_full() -> None:
    header = header_of(TEXTS[0].replace("\n", "\r"))
    error = AckError(101, "PID-3: no patient identifier", "PID", 3)
    with_error = build_ack(header, "AE", at=AT, error=error, control_id="OURS-1")
    assert with_error == _build(header, "AE", _stamp(AT), "OURS-1", error)
    assert build_ack(header, "AA", at=AT, control_id="OURS-2") == _build(
        header, "AA", _stamp(AT), "OURS-2", None
    )


_FRAMING = st.sampled_from([b"\x0b", b"\x1c", b"\r", b"\x1c\r", b"MSH|^~\\&|A|B\rPID|1", b"x"])


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    reads=st.lists(st.lists(_FRAMING, max_size=8).map(b"".join), min_size=1, max_size=6),
    limit=st.integers(1, 40),
)
def test_a_frame_cut_out_directly_gives_the_events_of_the_general_scan(
    reads: list[bytes], limit: int
) -> None:
    quick, general = FrameDecoder(limit), FrameDecoder(limit)
    for data in [*reads, frame(b"MSH|^~\\&|A"), frame(b"x" * limit), frame(b"x" * (limit + 1))]:
        assert quick.feed(data) == general.scan(data)
        assert quick.pending == general.pending


def test_an_outcome_journaled_equals_the_outcome_with_its_journal_id_replaced() -> None:
    header = header_of(TEXTS[0].replace("\n", "\r"))
    outcome = Outcome(
        header, encoding="latin-1", message=ReceivedMessage("d" * 64, "text"), to_journal=True
    )
    assert outcome.journaled(7) == replace(outcome, journal_id=7)


def test_a_journal_record_is_laid_out_as_the_journal_files_describe() -> None:
    record = Record(
        9, "hl7", "FAC|ID-1", "d" * 64, "2026-03-01T10:00:05.000000Z", "utf-8", "é\udcff"
    )
    parts = [
        p.encode("utf-8", "surrogatepass")
        for p in ("hl7", "FAC|ID-1", "d" * 64, "2026-03-01T10:00:05.000000Z", "utf-8", "é\udcff")
    ]
    body = _LENGTHS.pack(*(len(p) for p in parts)) + b"".join(parts)
    crc = zlib.crc32(body, zlib.crc32((9).to_bytes(8, "little")))
    assert encode(record) == _HEAD.pack(MAGIC, len(body), 9, crc) + body
    assert decode(encode(record)) == [record]
