"""Nothing acknowledged is lost: a control id reused for a different message is refused with
AE and the message kept for review; a true resend is still AA; an id taken from the HL7
namespace by another source cannot swallow the real message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hl7.client import MLLPClient

from adapters.hl7.client import read_ack
from adapters.hl7.digest import message_digest
from adapters.hl7.er7 import Er7Message
from adapters.hl7.framing import frame
from adapters.hl7.listener import MllpListener
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.service import Service
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.hl7.mllp_peer import RawPeer
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

ORIGINAL = corpus_bytes("a01_v2_3_basic")
KEY = "NORTHGEN|C23-0001"
# The same control id, another patient: a sender's counter that wrapped, or a copied message.
DIFFERENT = ORIGINAL.replace(b"TESTER^ALEX^J", b"SAMPLE^RILEY").replace(b"RF10001", b"RF10099")
CONFLICT_TEXT = "control id already used for a different message"


def send_raw(port: int, message: bytes) -> Er7Message:
    """Send with python-hl7's client; the ACK as ER7, to read any field of it."""
    with MLLPClient("127.0.0.1", port) as client:
        client.socket.settimeout(10)
        raw = client.send_message(message).strip(b"\x0b\x1c\r")
    return Er7Message.parse(raw.decode())


def test_resend_with_different_content_gets_ae_naming_the_reason_and_is_kept_for_review(
    listener: MllpListener, service: Service
) -> None:
    first = send_raw(listener.port, ORIGINAL)
    stored_before = service.store.get_contact(f"hl7:{KEY}")
    refused = send_raw(listener.port, DIFFERENT)
    again = send_raw(listener.port, DIFFERENT)

    assert first.first("MSA").value(1) == "AA"  # type: ignore[union-attr]
    for ack in (refused, again):
        msa, err = ack.first("MSA"), ack.first("ERR")
        assert msa is not None and err is not None
        assert (msa.value(1), msa.value(2)) == ("AE", "C23-0001")
        assert CONFLICT_TEXT in msa.value(3)  # 2.3: the reason in MSA-3 ...
        assert err.value(1, 1, 4, 1) == "205"  # ... and table 0357 "duplicate key" in ERR-1
    assert service.store.get_contact(f"hl7:{KEY}") == stored_before
    [kept] = service.store.conflicting_resends()
    assert (kept.message_key, kept.contact_id, kept.times) == (KEY, f"hl7:{KEY}", 2)
    assert kept.message == DIFFERENT.decode()
    assert kept.digest == message_digest(DIFFERENT.decode())
    assert kept.digest != message_digest(ORIGINAL.decode())
    wait_for(
        lambda: service.store.counters().get("hl7.resend_conflicts") == 2,
        timeout=5,
        what="conflicts counted",
    )
    kinds = [e.kind for e in service.store.audit_entries()]
    assert kinds.count("contact.conflicting_resend") == 2


def test_resend_rewritten_only_in_line_endings_msh7_and_trailing_separators_gets_aa(
    listener: MllpListener, service: Service
) -> None:
    rewritten = (
        ORIGINAL.replace(b"|20260301100000||ADT^A01|", b"|20260301101500||ADT^A01|", 1)
        .replace(b"\r", b"\r\n")
        .replace(b"V10001\r\n", b"V10001|||\r\n")
    )
    assert send_raw(listener.port, ORIGINAL).first("MSA").value(1) == "AA"  # type: ignore[union-attr]
    assert send_raw(listener.port, rewritten).first("MSA").value(1) == "AA"  # type: ignore[union-attr]
    assert send_raw(listener.port, ORIGINAL).first("MSA").value(1) == "AA"  # type: ignore[union-attr]
    assert service.store.conflicting_resends() == []
    assert [c.id for c in service.store.list_contacts()] == [f"hl7:{KEY}"]


def test_same_and_different_messages_under_one_control_id_in_one_batch_are_told_apart(
    listener: MllpListener, service: Service
) -> None:
    peer = RawPeer(listener.port)
    try:
        peer.send(frame(ORIGINAL) + frame(ORIGINAL) + frame(DIFFERENT) + frame(ORIGINAL))
        replies = peer.acks(4)
    finally:
        peer.close()
    assert [r.code for r in replies] == ["AA", "AA", "AE", "AA"]
    assert CONFLICT_TEXT in replies[2].text
    assert [k.message_key for k in service.store.conflicting_resends()] == [KEY]


def test_message_whose_contact_id_another_source_already_holds_gets_ae_and_is_kept(
    listener: MllpListener, service: Service
) -> None:
    # As a contact posted through the API before such ids were refused would be stored.
    squatter = contact_from_dict(
        {
            "id": f"hl7:{KEY}",
            "occurred_at": "2026-03-01T09:00:00+00:00",
            "patient": {"id": "p-squat"},
        },
        service.config.code_lists,
    )
    service.accept_contact(squatter)
    ack = send_raw(listener.port, ORIGINAL)
    msa = ack.first("MSA")
    assert msa is not None and msa.value(1) == "AE" and CONFLICT_TEXT in msa.value(3)
    [kept] = service.store.conflicting_resends()
    assert kept.message == ORIGINAL.decode()


# Through the JSON API of a running service ------------------------------------------------------

MLLP_SEND = Path(sys.executable).with_name("mllp_send")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServiceProcess]:
    config = write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML)
    process = ServiceProcess(config, f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs")
    process.start()
    yield process
    process.stop()


def api_contact(contact_id: str) -> dict[str, object]:
    return {
        "id": contact_id,
        "occurred_at": "2026-03-01T09:00:00+00:00",
        "patient": {"id": "p-api"},
        "household": [{"id": "k-api", "relationship": "child", "birth_date": "2019-01-01"}],
    }


@pytest.mark.parametrize(
    "contact_id", [f"hl7:{KEY}", "fhir:pat-1:enc-1:hook-1", "HL7:Other-Sender|77"]
)
def test_api_refuses_ids_in_another_sources_namespace_naming_the_field_not_the_value(
    served: ServiceProcess, contact_id: str
) -> None:
    response = served.api("POST", "/api/contacts", json=api_contact(contact_id))
    assert response.status_code == 422
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    [issue] = body["issue"]
    assert issue["expression"] == ["$.id"]
    assert contact_id.partition(":")[2] not in issue["diagnostics"]


def test_hl7_message_after_a_refused_api_post_of_its_id_is_stored_as_sent(
    served: ServiceProcess, tmp_path: Path
) -> None:
    assert served.api("POST", "/api/contacts", json=api_contact(f"hl7:{KEY}")).status_code == 422
    assert served.api("POST", "/api/contacts", json=api_contact("api-1")).status_code == 201
    path = tmp_path / "outgoing.hl7"
    path.write_bytes(frame(ORIGINAL))
    done = subprocess.run(
        [str(MLLP_SEND), "--file", str(path), "--port", str(served.mllp_port), "127.0.0.1"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    reply = read_ack(done.stdout.strip().strip(b"\x0b\x1c\r"))
    assert (reply.code, reply.acked_control_id) == ("AA", "C23-0001")
    stored = served.api("GET", "/api/contacts/hl7:NORTHGEN%7CC23-0001").json()
    assert [c["ref"] for c in stored["assessment"]["children"]] == ["NK1-1"]
