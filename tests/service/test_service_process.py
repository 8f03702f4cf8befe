"""`thinkfamily serve` as real processes: health, the API, crashes, two instances, a receiver down.

Referrals go by email to a real SMTP server on loopback; the store is a real SQLite file or a
real PostgreSQL database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugin_core.store import open_store
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess
from tests.peers.smtp import Mailbox, SmtpReceiver

from .conftest import contact_doc, decision_doc

pytestmark = pytest.mark.integration


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


def _start(
    processes: list[ServiceProcess],
    config: Path,
    db_url: str,
    tmp_path: Path,
    name: str = "service",
) -> ServiceProcess:
    process = ServiceProcess(config, db_url, tmp_path / "logs", name=name)
    processes.append(process)
    return process.start()


def _refer(service: ServiceProcess, count: int, *, prefix: str) -> list[str]:
    """Post ``count`` contacts and sharing decisions; returns the referral ids."""
    ids = []
    for n in range(count):
        contact_id = f"{prefix}-{n}"
        assert service.api("POST", "/api/contacts", json=contact_doc(contact_id)).status_code == 201
        response = service.api("POST", f"/api/contacts/{contact_id}/decision", json=decision_doc())
        assert response.status_code == 201, response.text
        ids += [r["id"] for r in response.json()["referrals"]]
    return ids


def _delivered(db_url: str, ids: list[str]) -> set[str]:
    store = open_store(db_url)
    try:
        return {
            r.referral.id
            for r in store.list_referrals()
            if r.referral.id in ids and r.delivered_at is not None
        }
    finally:
        store.close()


def _delivery_records(db_url: str, ids: list[str]) -> dict[str, int]:
    store = open_store(db_url)
    try:
        return {
            rid: sum(1 for _, _, outcome in store.delivery_attempts(rid) if outcome == "delivered")
            for rid in ids
        }
    finally:
        store.close()


def test_serve_answers_healthz_on_sqlite_and_postgresql(
    db_url: str,
    make_config: Any,
    smtp: SmtpReceiver,
    tmp_path: Path,
    processes: list[ServiceProcess],
) -> None:
    service = _start(processes, make_config(smtp.port), db_url, tmp_path)
    health = service.api("GET", "/healthz").json()
    assert health["status"] == "ok"
    assert health["database"] == {
        "backend": "postgresql" if db_url.startswith("postgresql") else "sqlite",
        "ok": True,
    }
    assert health["worker"]["running"] is True
    service.stop()  # SIGTERM
    assert '"msg": "service stopped"' in service.log_text(), "SIGTERM should shut down gracefully"


def test_api_refuses_missing_token_and_explains_bad_input_as_operation_outcome(
    make_config: Any, smtp: SmtpReceiver, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    service = _start(processes, make_config(smtp.port), f"sqlite:///{tmp_path / 'tf.db'}", tmp_path)
    no_token = service.api("GET", "/api/contacts", headers={"Authorization": ""})
    assert no_token.status_code == 401 and no_token.json()["resourceType"] == "OperationOutcome"
    bad_json = service.api(
        "POST", "/api/contacts", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (
        bad_json.status_code == 400
        and bad_json.json()["issue"][0]["diagnostics"] == "body is not valid JSON"
    )
    too_big = service.api("POST", "/api/contacts", data=b"{" + b" " * 1_100_000 + b"}")
    assert too_big.status_code == 413
    missing = service.api("POST", "/api/contacts", json={"id": "x"})
    assert missing.status_code == 400 and "$.occurred_at" in missing.text
    assert service.api("POST", "/api/contacts", json=contact_doc("c-api")).status_code == 201
    invalid = service.api(
        "POST", "/api/contacts/c-api/decision", json={"share": True, "decided_by": {"id": "n1"}}
    )
    assert invalid.status_code == 422
    fields = {issue["expression"][0] for issue in invalid.json()["issue"]}
    assert {"reasons", "level_of_need", "lawful_basis", "consent", "what_shared"} <= fields
    assert (
        service.api("POST", "/api/contacts/nope/decision", json=decision_doc()).status_code == 404
    )
    # Bad input never stops the service: it still answers.
    assert service.api("GET", "/api/contacts/c-api").json()["state"] == "open"
    made = service.api("POST", "/api/contacts/c-api/decision", json=decision_doc())
    referral_id = made.json()["referrals"][0]["id"]
    no_reason = service.api("POST", f"/api/referrals/{referral_id}/cancel", json={"by": "nurse-17"})
    assert no_reason.status_code == 422 and no_reason.json()["issue"][0]["expression"] == [
        "reasons"
    ]
    update = service.api(
        "POST",
        f"/api/referrals/{referral_id}/update",
        json={"by": "nurse-17", "reasons": "Second child found."},
    )
    assert update.status_code == 202 and update.json()["sent"]["amends"] == referral_id
    assert (
        service.api(
            "POST", "/api/referrals/nope/cancel", json={"by": "n", "reasons": "r"}
        ).status_code
        == 404
    )


def test_sigkill_with_referrals_in_flight_loses_none_and_resends_none_already_delivered(
    make_config: Any, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    with SmtpReceiver(Mailbox(delay=0.25)) as smtp:
        db_url = f"sqlite:///{tmp_path / 'tf.db'}"
        config = make_config(smtp.port)
        service = _start(processes, config, db_url, tmp_path, "crashing")
        ids = _refer(service, 12, prefix="c-kill")
        wait_for(lambda: len(smtp.mailbox.messages) >= 3, timeout=30, what="first deliveries")
        service.kill()
        delivered_before = _delivered(db_url, ids)
        received_before = smtp.mailbox.keys()
        assert 0 < len(delivered_before) < len(ids)
        keys = {rid: f"tf-{rid}" for rid in ids}

        restarted = _start(processes, config, db_url, tmp_path, "restarted")
        wait_for(
            lambda: _delivered(db_url, ids) == set(ids),
            timeout=60,
            what="all referrals delivered after restart",
        )
        restarted.stop()

        received = smtp.mailbox.keys()
        assert all(received[keys[rid]] >= 1 for rid in ids), "a referral was lost"
        for rid in delivered_before:
            assert received[keys[rid]] == received_before[keys[rid]], (
                "a delivered referral was sent again"
            )
        assert set(_delivery_records(db_url, ids).values()) == {1}


def test_two_instances_on_one_postgresql_never_deliver_a_referral_twice(
    pg_url: str, make_config: Any, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    with SmtpReceiver(Mailbox(delay=0.02)) as smtp:
        config = make_config(smtp.port)
        first = _start(processes, config, pg_url, tmp_path, "first")
        second = _start(processes, config, pg_url, tmp_path, "second")
        ids = _refer(first, 15, prefix="c-a") + _refer(second, 15, prefix="c-b")
        wait_for(
            lambda: _delivered(pg_url, ids) == set(ids), timeout=90, what="all referrals delivered"
        )
        time.sleep(1)  # room for a duplicate to arrive, if there were one
        received = smtp.mailbox.keys()
        assert sorted(received.values()) == [1] * len(ids)
        assert set(_delivery_records(pg_url, ids).values()) == {1}
        workers = {w for rid in ids for _, w, _ in open_store(pg_url).delivery_attempts(rid)}
        assert len(workers) == 2, "both instances should have delivered some referrals"


def test_receiver_down_for_a_while_gets_the_referral_once_it_recovers(
    make_config: Any, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    mailbox = Mailbox()
    with SmtpReceiver(mailbox) as smtp:
        db_url = f"sqlite:///{tmp_path / 'tf.db'}"
        service = _start(processes, make_config(smtp.port), db_url, tmp_path)
        # The outage starts once the service is up, so a slow start cannot use it up.
        mailbox.fail_until = time.monotonic() + 3.0
        (rid,) = _refer(service, 1, prefix="c-down")
        wait_for(
            lambda: _delivered(db_url, [rid]) == {rid}, timeout=30, what="delivery after recovery"
        )
        assert mailbox.refused >= 2
        assert smtp.mailbox.keys()[f"tf-{rid}"] == 1
        status = service.api("GET", f"/api/referrals/{rid}").json()
        assert status["status"] == "delivered" and status["attempts"] >= 3


def test_serve_names_the_listener_whose_port_is_taken_and_exits(
    make_config: Any, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    import socket
    import subprocess
    import sys

    from tests.peers.ports import free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        mllp_port = taken.getsockname()[1]
        result = subprocess.run(
            [str(Path(sys.executable).with_name("thinkfamily")), "serve", "--config", str(make_config(smtp.port)),
             "--db", f"sqlite:///{tmp_path / 'tf.db'}", "--http-port", str(free_port()), "--mllp-port", str(mllp_port)],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    refusals = [line for line in lines if line["msg"] == "listener cannot start"]
    assert [line["listener"] for line in refusals] == ["MllpListener"]
    assert "in use" in refusals[0]["reason"]
