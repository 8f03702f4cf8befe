"""``thinkfamily serve`` acknowledging on receipt: content errors shown to the integrator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.hl7.mllp_peer import RawPeer
from tests.hl7.test_journal import BAD_BIRTH_DATE, BASIC, JOURNAL_TOML, message
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

THINKFAMILY = Path(sys.executable).with_name("thinkfamily")


def test_a_content_error_after_the_aa_is_listed_by_the_api_and_the_command(
    tmp_path: Path,
) -> None:
    config = write_trust_config(tmp_path / "trust", extra_toml=JOURNAL_TOML)
    db_url = f"sqlite:///{tmp_path / 'tf.db'}"
    served = ServiceProcess(config, db_url, tmp_path / "logs", name="journal-errors").start()
    try:
        bad = message("SRV-BAD", body=BASIC.replace(BAD_BIRTH_DATE, b"|19881399|F|"))
        peer = RawPeer(served.mllp_port, timeout=30)
        try:
            peer.send_message(bad)
            peer.send_message(message("SRV-OK"))
            replies = peer.acks(2)
        finally:
            peer.close()
        assert [r.code for r in replies] == ["AA", "AA"]

        def listed() -> list[dict[str, object]]:
            body = served.api("GET", "/api/journal/errors").json()
            return list(body["errors"])

        wait_for(lambda: listed(), timeout=60, what="the content error listed")
        [error] = listed()
        assert error["message_key"] == "NORTHGEN|SRV-BAD" and error["ack_code"] == "AE"
        assert str(error["reason"]).startswith("PID-7") and "19881399" not in str(error)
        assert (
            served.api("GET", "/api/journal/errors", headers={"Authorization": ""}).status_code
            == 401
        )
        health = served.api("GET", "/healthz").json()
        assert health["listeners"]["MllpListener"]["acknowledge"] == "on-receipt"
        assert health["listeners"]["MllpListener"]["worker_running"] is True
        assert health["listeners"]["MllpListener"]["journal_files"] is True  # SQLite file
        assert health["counters"]["journal.content_errors"] == 1
    finally:
        served.stop()
    done = subprocess.run(
        [str(THINKFAMILY), "journal-errors", "--db", db_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "NORTHGEN|SRV-BAD" in done.stdout and "PID-7" in done.stdout
    assert "SRV-OK" not in done.stdout and "19881399" not in done.stdout
