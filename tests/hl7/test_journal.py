"""Acknowledging on receipt: journal, ACK, then the worker process reads the message.

The listener runs in this process against the real service on a SQLite file; the journal
worker is a real process of its own, as under ``thinkfamily serve``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.hl7.client import AckReply
from adapters.hl7.listener import MllpListener
from plugin_core.contract import ServeOptions
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.hl7.conftest import HL7_TOML, LoopThread, corpus_bytes
from tests.hl7.mllp_peer import RawPeer
from tests.peers.ports import wait_for
from tests.peers.service import write_trust_config

pytestmark = pytest.mark.integration

JOURNAL_TOML = HL7_TOML.replace('acknowledge = "after-processing"', 'acknowledge = "on-receipt"')
BASIC = corpus_bytes("a01_v2_3_basic")
BAD_BIRTH_DATE = b"|19880501|F|"


def message(control_id: str, *, body: bytes = BASIC, enhanced: bool = False) -> bytes:
    text = body.replace(b"C23-0001", control_id.encode())
    if enhanced:
        text = text.replace(b"|P|2.3\r", b"|P|2.3|||AL|AL\r")
    return text


@pytest.fixture
def journal_service(tmp_path: Path) -> Iterator[Service]:
    path = write_trust_config(tmp_path / "trust", extra_toml=JOURNAL_TOML)
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    svc = Service(
        load_trust_config(path),
        store,
        entry_points=False,
        serve=ServeOptions(host="127.0.0.1", mllp_port=0),
    )
    yield svc
    store.close()


@pytest.fixture
def journaling(journal_service: Service, loop_thread: LoopThread) -> Iterator[MllpListener]:
    [mllp] = journal_service.engine.hooks.listeners(journal_service.context)
    assert isinstance(mllp, MllpListener)
    loop_thread.run(mllp.start())
    assert mllp.journal is not None, "the journal worker did not start"
    yield mllp
    loop_thread.run(mllp.stop())


def send(listener: MllpListener, messages: list[bytes], acks: int | None = None) -> list[AckReply]:
    peer = RawPeer(listener.port, timeout=30)
    try:
        for m in messages:
            peer.send_message(m)
        return peer.acks(len(messages) if acks is None else acks)
    finally:
        peer.close()


def test_aa_comes_on_receipt_and_the_worker_process_records_the_contact(
    journaling: MllpListener, journal_service: Service
) -> None:
    [reply] = send(journaling, [message("J-1")])
    assert (reply.code, reply.acked_control_id) == ("AA", "J-1")
    wait_for(
        lambda: journal_service.store.get_contact("hl7:NORTHGEN|J-1") is not None,
        timeout=60,
        what="the contact recorded from the journal",
    )
    stored = journal_service.store.get_contact("hl7:NORTHGEN|J-1")
    assert stored is not None and "consider-children" in stored.prompt_codes
    assert journaling.health()["acknowledge"] == "on-receipt"


def test_a_content_error_found_after_the_aa_is_recorded_counted_and_listed(
    journaling: MllpListener, journal_service: Service
) -> None:
    bad = message("J-BAD", body=BASIC.replace(BAD_BIRTH_DATE, b"|19881399|F|"))
    [reply] = send(journaling, [bad])
    assert reply.code == "AA"
    wait_for(lambda: journal_service.journal_errors(), timeout=60, what="the error listed")
    [error] = journal_service.journal_errors()
    assert (error.message_key, error.outcome, error.ack_code) == ("NORTHGEN|J-BAD", "refused", "AE")
    assert error.reason.startswith("PID-7")
    assert "19881399" not in error.reason  # reasons name the field, never the value
    assert journal_service.store.counters().get("journal.content_errors") == 1
    assert journal_service.store.get_contact("hl7:NORTHGEN|J-BAD") is None


def test_enhanced_mode_gets_ca_at_once_then_the_application_ack_with_the_reason(
    journaling: MllpListener,
) -> None:
    good = message("J-E1", enhanced=True)
    bad = message("J-E2", body=BASIC.replace(BAD_BIRTH_DATE, b"|19881399|F|"), enhanced=True)
    replies = send(journaling, [good, bad], acks=4)
    accepts = [(r.code, r.acked_control_id) for r in replies[:2]]
    assert accepts == [("CA", "J-E1"), ("CA", "J-E2")]
    answers = {r.acked_control_id: r for r in replies[2:]}
    assert answers["J-E1"].code == "AA"
    assert answers["J-E2"].code == "AE" and "PID-7" in answers["J-E2"].text


def test_header_faults_are_refused_on_receipt_and_never_journaled(
    journaling: MllpListener, journal_service: Service
) -> None:
    wrong_version = message("J-V").replace(b"|2.3\r", b"|2.1\r")
    no_pid = b"\r".join(line for line in message("J-P").split(b"\r") if not line.startswith(b"PID"))
    discharge = message("J-A03").replace(b"ADT^A01", b"ADT^A03")
    version, pid, skipped = send(journaling, [wrong_version, no_pid, discharge])
    assert version.code == "AR" and "MSH-12" in version.text
    assert pid.code == "AE" and "PID" in pid.text
    assert skipped.code == "AA"
    assert journal_service.journal_depth() == 0
    assert journal_service.journal_errors() == []


def test_a_resend_is_journaled_once_and_recorded_once(
    journaling: MllpListener, journal_service: Service
) -> None:
    first, again = send(journaling, [message("J-R"), message("J-R")])
    assert first.code == again.code == "AA"
    wait_for(
        lambda: journal_service.store.get_contact("hl7:NORTHGEN|J-R") is not None,
        timeout=60,
        what="the contact recorded",
    )
    [late] = send(journaling, [message("J-R")])
    assert late.code == "AA"
    ids = [c.id for c in journal_service.store.list_contacts() if c.id == "hl7:NORTHGEN|J-R"]
    assert ids == ["hl7:NORTHGEN|J-R"]


def test_a_different_message_under_a_recorded_key_is_answered_ae_as_before(
    journaling: MllpListener, journal_service: Service
) -> None:
    send(journaling, [message("J-C")])
    wait_for(
        lambda: journal_service.store.get_contact("hl7:NORTHGEN|J-C") is not None,
        timeout=60,
        what="the contact recorded",
    )
    changed = message("J-C").replace(b"TESTER^SAM", b"TESTER^SAMUEL")
    [reply] = send(journaling, [changed])
    assert reply.code == "AE" and "MSH-10" in reply.text
    wait_for(
        lambda: journal_service.store.conflicting_resends(), timeout=60, what="kept for review"
    )


def test_a_killed_worker_is_started_again_and_applies_each_journaled_message_once(
    journaling: MllpListener, journal_service: Service
) -> None:
    assert journaling.journal is not None
    worker = journaling.journal.worker
    first_pid = worker.pid
    replies = send(journaling, [message(f"J-K{n}") for n in range(150)])
    assert {r.code for r in replies} == {"AA"}
    os.kill(first_pid, signal.SIGKILL)  # mid-batch or between batches: either must be safe
    wait_for(lambda: worker.alive and worker.pid != first_pid, timeout=30, what="restart")
    replies = send(journaling, [message(f"J-L{n}") for n in range(50)])
    assert {r.code for r in replies} == {"AA"}
    wait_for(lambda: journal_service.journal_depth() == 0, timeout=60, what="journal drained")
    keys = [f"hl7:NORTHGEN|J-K{n}" for n in range(150)] + [
        f"hl7:NORTHGEN|J-L{n}" for n in range(50)
    ]
    stored = {c.id for c in journal_service.store.list_contacts(limit=1000)}
    assert set(keys) <= stored
    audit = [e for e in journal_service.store.audit_entries() if e.subject in set(keys)]
    accepted = [e for e in audit if e.kind == "contact.accepted"]
    assert len(accepted) == len(keys), "a journaled message was applied twice, or not at all"
    assert journal_service.store.counters().get("hl7.journal_worker_restarts", 0) >= 1
