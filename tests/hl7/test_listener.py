"""The MLLP listener against real peers on loopback, committing to the real service on SQLite."""

from __future__ import annotations

import pytest
from hl7.client import MLLPClient

from adapters.hl7.client import read_ack
from adapters.hl7.listener import MllpListener
from plugin_core.service import Service
from tests.hl7.conftest import corpus_bytes
from tests.hl7.mllp_peer import RawPeer
from tests.peers.ports import wait_for

pytestmark = pytest.mark.integration


def _strip(reply: bytes) -> bytes:
    return reply.strip(b"\x0b\x1c\r")


def test_admission_sent_by_python_hl7_gets_aa_after_the_contact_is_committed(
    listener: MllpListener, service: Service
) -> None:
    with MLLPClient("127.0.0.1", listener.port) as client:
        reply = read_ack(_strip(client.send_message(corpus_bytes("a01_v2_3_basic"))))
    assert (reply.code, reply.acked_control_id) == ("AA", "C23-0001")
    stored = service.store.get_contact("hl7:NORTHGEN|C23-0001")
    assert stored is not None
    children = stored.assessment.children
    assert [(c.ref, c.age) for c in children] == [("NK1-1", 9)]
    assert "consider-children" in stored.prompt_codes


def test_resent_message_gets_aa_again_and_makes_no_second_contact(
    listener: MllpListener, service: Service
) -> None:
    message = corpus_bytes("a04_v2_3_1_emergency")
    with MLLPClient("127.0.0.1", listener.port) as client:
        first = read_ack(_strip(client.send_message(message)))
        again = read_ack(_strip(client.send_message(message)))
    assert first.code == again.code == "AA"
    assert first.control_id != again.control_id  # each ACK is a message of its own
    contacts = [c for c in service.store.list_contacts() if c.id == "hl7:SOUTHED|C231-0002"]
    assert len(contacts) == 1


def test_bad_input_is_answered_with_reasons_and_the_next_message_still_gets_aa(
    listener: MllpListener,
) -> None:
    peer = RawPeer(listener.port)
    try:
        peer.send(b"\x0bthis is not hl7 at all\x1c\r")
        garbage = peer.acks(1)[0]
        peer.send(b"\x0bMSH|^~\\&|PAS|CUT|TF|TRUST|20260301100000||ADT^A01|CUT-1|P|2.5\rPID|1||X")
        peer.send_message(corpus_bytes("a01_v2_3_basic").replace(b"C23-0001", b"AFTER-CUT"))
        truncated, after_cut = peer.acks(2)
        wrong = corpus_bytes("a01_v2_3_basic").replace(b"|2.3\r", b"|2.1\r")
        peer.send_message(wrong.replace(b"C23-0001", b"OLD-1"))
        wrong_version = peer.acks(1)[0]
        big = corpus_bytes("a01_v2_3_basic").replace(b"C23-0001", b"BIG-1")
        peer.send_message(big + b"NTE|1||" + b"x" * 5_000_000 + b"\r")
        oversized = peer.acks(1)[0]
        peer.send_message(corpus_bytes("a01_v2_3_basic").replace(b"C23-0001", b"GOOD-2"))
        good = peer.acks(1)[0]
    finally:
        peer.close()
    assert garbage.code == "AR" and "MSH" in garbage.text
    assert truncated.code == "AR" and "truncated" in truncated.text
    assert (after_cut.code, after_cut.acked_control_id) == ("AA", "AFTER-CUT")
    assert (wrong_version.code, wrong_version.acked_control_id) == ("AR", "OLD-1")
    assert "MSH-12" in wrong_version.text
    assert oversized.code == "AR" and "maximum" in oversized.text
    assert oversized.acked_control_id == "BIG-1"
    assert (good.code, good.acked_control_id) == ("AA", "GOOD-2")


def test_message_without_pid_gets_ae_naming_the_segment(listener: MllpListener) -> None:
    peer = RawPeer(listener.port)
    try:
        peer.send_message(b"MSH|^~\\&|PAS|F|TF|T|20260301100000||ADT^A01^ADT_A01|NOPID|P|2.5\r")
        reply = peer.acks(1)[0]
    finally:
        peer.close()
    assert (reply.code, reply.acked_control_id) == ("AE", "NOPID")
    assert reply.text.startswith("PID")


def test_discharge_and_child_patient_are_acknowledged_skipped_and_counted(
    listener: MllpListener, service: Service
) -> None:
    peer = RawPeer(listener.port)
    try:
        peer.send_message(corpus_bytes("a03_v2_5_discharge"))
        peer.send_message(corpus_bytes("a01_v2_5_child_patient"))
        discharge, child = peer.acks(2)
    finally:
        peer.close()
    assert discharge.code == child.code == "AA"
    wait_for(
        lambda: service.store.counters().get("hl7.skipped") == 2, timeout=10, what="skip count"
    )
    assert service.store.get_contact("hl7:CENTRAL|C25-0012") is None


def test_enhanced_mode_sends_the_commit_ack_msh15_asks_for_and_no_application_ack(
    listener: MllpListener,
) -> None:
    peer = RawPeer(listener.port)
    try:
        peer.send_message(corpus_bytes("a08_v2_5_repetitions"))  # MSH-15 AL, MSH-16 NE
        peer.send_message(
            corpus_bytes("a08_v2_5_repetitions")
            .replace(b"|AL|NE\r", b"|AL|AL\r", 1)
            .replace(b"C25-0004", b"BOTH-1")
        )
        commit_only, commit, application = peer.acks(3)
    finally:
        peer.close()
    assert (commit_only.code, commit_only.acked_control_id) == ("CA", "C25-0004")
    assert (commit.code, commit.acked_control_id) == ("CA", "BOTH-1")
    assert (application.code, application.acked_control_id) == ("AA", "BOTH-1")


def test_pipelined_messages_are_answered_in_the_order_sent(listener: MllpListener) -> None:
    peer = RawPeer(listener.port)
    template = corpus_bytes("a01_v2_3_basic")
    try:
        for i in range(40):
            peer.send_message(template.replace(b"C23-0001", f"PIPE-{i}".encode()))
        replies = peer.acks(40)
    finally:
        peer.close()
    assert [r.acked_control_id for r in replies] == [f"PIPE-{i}" for i in range(40)]
    assert {r.code for r in replies} == {"AA"}


def test_a_failed_commit_is_answered_ae_and_the_listener_keeps_serving(
    listener: MllpListener, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.accept_contact
    calls = {"n": 0}

    def flaky(contact, *, message_key=None, message=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real(contact, message_key=message_key, message=message)

    monkeypatch.setattr(service, "accept_contact", flaky)
    peer = RawPeer(listener.port)
    try:
        peer.send_message(corpus_bytes("a01_v2_3_basic"))
        failed = peer.acks(1)[0]
        peer.send_message(corpus_bytes("a01_v2_3_basic"))
        retried = peer.acks(1)[0]
    finally:
        peer.close()
    assert failed.code == "AE" and "send again" in failed.text
    assert retried.code == "AA"
    assert service.store.get_contact("hl7:NORTHGEN|C23-0001") is not None
