"""End to end: python-hl7's ``mllp_send`` command talks to a running ``thinkfamily serve``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.hl7.client import AckReply, read_ack
from adapters.hl7.framing import frame
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.hl7.mllp_peer import RawPeer
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

MLLP_SEND = Path(sys.executable).with_name("mllp_send")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServiceProcess]:
    config = write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML)
    process = ServiceProcess(config, f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs")
    process.start()
    yield process
    process.stop()


def mllp_send(port: int, messages: list[bytes], tmp_path: Path) -> list[AckReply]:
    """Send with python-hl7's command-line sender; one ACK read back per message."""
    path = tmp_path / "outgoing.hl7"
    path.write_bytes(b"".join(frame(m) for m in messages))
    done = subprocess.run(
        [str(MLLP_SEND), "--file", str(path), "--port", str(port), "127.0.0.1"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    replies = [line.strip(b"\x0b\x1c\r") for line in done.stdout.split(b"\x1c\r\n") if line.strip()]
    return [read_ack(r) for r in replies]


def contact_ids(process: ServiceProcess) -> list[str]:
    body = process.api("GET", "/api/contacts?limit=500").json()
    return [c["id"] for c in body["contacts"]]


def test_mllp_send_gets_aa_and_the_contact_is_stored_with_children_and_prompts(
    served: ServiceProcess, tmp_path: Path
) -> None:
    [reply] = mllp_send(served.mllp_port, [corpus_bytes("a04_v2_3_1_emergency")], tmp_path)
    assert (reply.code, reply.acked_control_id) == ("AA", "C231-0002")
    contacts = served.api("GET", "/api/contacts").json()["contacts"]
    [stored] = [c for c in contacts if c["id"] == "hl7:SOUTHED|C231-0002"]
    assert stored["children"] == 2
    assert "consider-children" in stored["prompts"]


def test_resend_by_mllp_send_gets_aa_again_without_a_second_contact(
    served: ServiceProcess, tmp_path: Path
) -> None:
    message = corpus_bytes("a01_v2_3_basic")
    replies = mllp_send(served.mllp_port, [message, message], tmp_path)
    replies += mllp_send(served.mllp_port, [message], tmp_path)
    assert [r.code for r in replies] == ["AA", "AA", "AA"]
    assert contact_ids(served).count("hl7:NORTHGEN|C23-0001") == 1


def test_bad_input_gets_ae_or_ar_and_the_service_keeps_serving(
    served: ServiceProcess, tmp_path: Path
) -> None:
    good = corpus_bytes("a01_v2_3_basic")
    wrong_version = good.replace(b"|2.3\r", b"|2.9\r").replace(b"C23-0001", b"V29-1")
    huge = good.replace(b"C23-0001", b"HUGE-1") + b"NTE|1||" + b"y" * 5_000_000 + b"\r"
    garbage, version, oversized, after = mllp_send(
        served.mllp_port,
        [
            b"garbage \x00\xff not a message",
            wrong_version,
            huge,
            good.replace(b"C23-0001", b"OK-1"),
        ],
        tmp_path,
    )
    assert garbage.code == "AR" and "MSH" in garbage.text
    assert (version.code, version.acked_control_id) == ("AR", "V29-1") and "MSH-12" in version.text
    assert oversized.code == "AR" and "maximum" in oversized.text
    assert (after.code, after.acked_control_id) == ("AA", "OK-1")

    peer = RawPeer(served.mllp_port)
    try:
        peer.send(b"\x0b" + good[:120])  # cut short: no end block before the next frame
        peer.send_message(good.replace(b"C23-0001", b"OK-2"))
        truncated, next_good = peer.acks(2)
    finally:
        peer.close()
    assert truncated.code == "AR" and "truncated" in truncated.text
    assert (next_good.code, next_good.acked_control_id) == ("AA", "OK-2")
    health = served.api("GET", "/healthz").json()
    assert health["counters"].get("hl7.rejected", 0) >= 4
