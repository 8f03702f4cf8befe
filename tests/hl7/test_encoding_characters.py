"""MSH-2 of four or five characters (v2.7 added the truncation character) is read on every
path (listener, refused frames, ACKs, replay, assess), and every ACK answers in the message's
own version and delimiters, the truncation character included."""

from __future__ import annotations

import io
from pathlib import Path

import hl7
import pytest
from hl7.client import MLLPClient

from adapters.hl7.ack import AckError, build_ack
from adapters.hl7.er7 import Er7Error, Er7Message, separators_of
from adapters.hl7.framing import frame
from adapters.hl7.listener import MllpListener
from adapters.hl7.mapping import parse_message
from plugin_core.cli import main
from plugin_core.host.engine import ThinkFamily
from plugin_core.replay import print_report, replay
from plugin_core.rules.clock import utc_now
from plugin_core.settings.trust_config import TrustConfig
from tests.hl7.conftest import corpus_bytes
from tests.hl7.mllp_peer import RawPeer

V2_7 = corpus_bytes("a01_v2_7_truncation")  # MSH|^~\&#|...|2.7
V2_8 = V2_7.replace(b"|2.7\r", b"|2.8\r").replace(b"C27-0007", b"C28-TRUNC")
V2_8_2 = V2_7.replace(b"|2.7\r", b"|2.8.2\r").replace(b"C27-0007", b"C282-TRUNC")
# Every delimiter its own, and a truncation character too: $ field, @ component,
# * repetition, ! escape, % subcomponent, ~ truncation.
CUSTOM = corpus_bytes("a01_v2_8_custom_separators").replace(b"MSH$@*!%$", b"MSH$@*!%~$", 1)


def ack_over_mllp(port: int, message: bytes) -> str:
    """The ACK text python-hl7's client receives for ``message``."""
    with MLLPClient("127.0.0.1", port) as client:
        client.socket.settimeout(10)
        return str(client.send_message(message).strip(b"\x0b\x1c\r").decode())


@pytest.mark.integration
@pytest.mark.parametrize(
    ("message", "version", "control_id"),
    [(V2_7, "2.7", "C27-0007"), (V2_8, "2.8", "C28-TRUNC"), (V2_8_2, "2.8.2", "C282-TRUNC")],
)
def test_v2_7_and_later_messages_with_a_truncation_character_get_aa_in_their_own_header(
    listener: MllpListener, message: bytes, version: str, control_id: str
) -> None:
    text = ack_over_mllp(listener.port, message)
    assert text.startswith("MSH|^~\\&#|TF|TRUST|PAS|NORTHGEN|")
    parsed = hl7.parse(text)  # as the sender's own library reads it
    msh, msa = parsed.segment("MSH"), parsed.segment("MSA")
    assert str(msh[9]) == "ACK^A01^ACK"
    assert str(msh[12]) == version
    assert (str(msa[1]), str(msa[2])) == ("AA", control_id)


@pytest.mark.integration
def test_ack_to_a_message_with_custom_delimiters_uses_them_all(listener: MllpListener) -> None:
    accepted = ack_over_mllp(listener.port, CUSTOM)
    refused = ack_over_mllp(
        listener.port,
        b"\r".join(line for line in CUSTOM.split(b"\r") if not line.startswith(b"PID")).replace(
            b"C28-0009", b"C28-NOPID"
        ),
    )
    assert accepted.startswith("MSH$@*!%~$TF$TRUST$PAS$ODDSEP$")
    assert "$ACK@A01@ACK$" in accepted and "$2.8\r" in accepted
    assert accepted.split("\r")[1] == "MSA$AA$C28-0009"
    msh, msa, err = refused.rstrip("\r").split("\r")
    assert msh.startswith("MSH$@*!%~$") and msa == "MSA$AE$C28-NOPID"
    assert err.startswith("ERR$$PID@1$101@Required field missing@HL70357$E$")
    assert "|" not in refused and "^" not in refused


@pytest.mark.integration
def test_refused_frame_is_answered_in_its_own_delimiters_with_fields_in_place(
    listener: MllpListener,
) -> None:
    big = V2_8 + b"NTE|1||" + b"x" * 2_000_000 + b"\r"
    peer = RawPeer(listener.port)
    try:
        peer.send(frame(big))
        [reply] = peer.acks(1)
    finally:
        peer.close()
    assert (reply.code, reply.acked_control_id) == ("AR", "C28-TRUNC")
    assert "maximum" in reply.text


def test_ack_escapes_the_truncation_character_in_what_it_echoes() -> None:
    _, header = parse_message(V2_8.replace(b"C28-TRUNC", b"C28\\P\\1").decode())
    assert header.control_id == "C28#1"
    error = AckError(101, "a reason with # in it")
    text = build_ack(header, "AE", at=utc_now(), error=error)
    assert "\rMSA|AE|C28\\P\\1\r" in text
    assert "a reason with \\P\\ in it" in text


@pytest.mark.parametrize("chars", ["^~\\&", "^~\\&#", "@*!%", "@*!%~"])
def test_four_or_five_encoding_characters_are_read_alike_and_fields_stay_in_place(
    chars: str,
) -> None:
    text = f"MSH|{chars}|PAS|FAC|TF|TRUST|20260301100000||ADT{chars[0]}A01|ID-1|P|2.8\r"
    message = Er7Message.parse(text)
    assert message.msh.field(2) == chars
    assert message.msh.field(3) == "PAS" and message.msh.field(10) == "ID-1"
    assert (message.seps.truncation or "") == chars[4:]


@pytest.mark.parametrize("chars", ["^~\\", "^~\\&#!", "^^\\&", "^~\\&&"])
def test_msh2_of_another_length_or_with_repeated_characters_is_refused(chars: str) -> None:
    with pytest.raises(Er7Error, match="MSH-2"):
        separators_of(f"MSH|{chars}|PAS|FAC")


def test_replay_reads_a_v2_8_message_with_a_truncation_character(config: TrustConfig) -> None:
    report = replay(frame(V2_8) + frame(CUSTOM), ThinkFamily(config, entry_points=False))
    assert report is not None
    assert [(line.outcome, line.contact_id) for line in report.lines] == [
        ("contact", "hl7:NORTHGEN|C28-TRUNC"),
        ("contact", "hl7:ODDSEP|C28-0009"),
    ]
    out = io.StringIO()
    print_report(report, out)
    assert "2 adult first contact(s)" in out.getvalue()


def test_assess_reads_a_v2_8_message_with_a_truncation_character(
    trust_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "message.hl7"
    path.write_bytes(V2_8)
    assert main(["assess", str(path), "--config", str(trust_path)]) == 0
    assert '"household_known"' in capsys.readouterr().out
