"""A short soak: 300 ADT messages over MLLP to a ``thinkfamily serve`` killed twice, with
sharing decisions whose referrals go to FHIR and SMTP receivers that keep going down.

The full run is ``benchmarks/soak.py`` (10,000 messages); this is its correctness check in CI,
not a timing. The soak runs once for the module; the last test tampers with what it read back
to prove the reconciliation notices a lost or doubled delivery.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import Soak, SoakOptions, SoakReport
from plugin_core.store import open_store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def soaked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Soak, SoakReport]:
    workdir: Path = tmp_path_factory.mktemp("soak")
    options = SoakOptions(messages=300, kills=2, seed=12, drain_timeout=90, deadline=120)
    soak = Soak(options, workdir, f"sqlite:///{workdir / 'soak.db'}")
    return soak, soak.run()


def test_every_message_and_referral_counts_once_through_kills_and_receiver_outages(
    soaked: tuple[Soak, SoakReport],
) -> None:
    _, report = soaked
    assert report.ok, report.render()
    counts = report.counts
    assert counts["kills (SIGKILL)"] == 2
    assert counts["contacts stored"] == counts["messages with AA"] == 300
    assert int(counts["referrals recorded"]) > 5
    assert (
        counts["referrals at receivers (distinct keys)"]
        == counts["referrals delivered"]
        == counts["referrals recorded"]
    )
    assert int(counts["FHIR receiver outages"]) + int(counts["SMTP receiver outages"]) > 0


def test_reconciliation_fails_when_a_receiver_lost_a_referral_or_one_is_recorded_twice(
    soaked: tuple[Soak, SoakReport],
) -> None:
    soak, _ = soaked
    if soak.fhir.received:  # the FHIR receiver loses one referral it had
        soak.fhir.received.pop(next(iter(soak.fhir.received)))
    else:  # or the mailbox does
        soak.smtp.mailbox.messages.pop()
    store = open_store(soak.db_url, migrate=False)
    try:
        with store.transaction() as tx:
            rid, attempt = tx.one(
                "SELECT referral_id, attempt FROM delivery_attempts"
                " WHERE outcome IN ('delivered', 'acknowledged') LIMIT 1"
            )
            tx.execute(
                "INSERT INTO delivery_attempts (referral_id, attempt, attempted_at, worker,"
                " outcome, detail) VALUES (?, ?, '2026-01-01T00:00:00.000000+00:00', 'tamper',"
                " 'delivered', '')",
                (rid, attempt + 100),
            )
    finally:
        store.close()

    failed = {c.name for c in soak.reconcile().checks if not c.ok}

    assert failed == {
        "every referral is at its receiver",
        "no referral recorded as delivered more than once",
        "every referral has one delivery recorded",
    }
