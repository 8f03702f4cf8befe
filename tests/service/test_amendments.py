"""Updating and cancelling a referral already made: queued like any referral, or withdrawn
unsent; delivered by email to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import ReferralAction, ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import Service, UnknownReferral
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def referred(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver
) -> tuple[Service, OutboxWorker, str]:
    config = load_trust_config(make_config(smtp.port))
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        clock=FakeClock(NOW),
    )
    service.accept_contact(contact_from_dict(contact_doc("c-amend"), config.code_lists))
    (referral,) = service.record_decision(
        decision_from_dict(decision_doc(), contact_id="c-amend", now=NOW)
    ).referrals
    return service, OutboxWorker(service), referral.id


def test_cancelling_a_delivered_referral_sends_a_cancellation_quoting_it(
    referred: tuple[Service, OutboxWorker, str], smtp: SmtpReceiver
) -> None:
    service, worker, referral_id = referred
    worker.run_once()
    change = service.amend_referral(
        referral_id,
        action=ReferralAction.CANCEL,
        amendment_id="x1",
        by="nurse-17",
        reasons="Sent in error: wrong patient record.",
    )
    assert change is not None and change.amends == referral_id
    worker.run_once()
    original, cancellation = smtp.mailbox.messages
    assert cancellation["Subject"] == f"CANCELLED: safeguarding referral {referral_id}"
    assert cancellation["In-Reply-To"] == original["Message-ID"]
    assert (
        cancellation["X-ThinkFamily-Idempotency-Key"] != original["X-ThinkFamily-Idempotency-Key"]
    )
    assert "Sent in error" in cancellation.get_payload(decode=True).decode()
    assert [e.kind for e in service.store.audit_entries()].count("referral.cancel") == 1


def test_cancelling_a_referral_not_yet_sent_withdraws_it_and_sends_nothing(
    referred: tuple[Service, OutboxWorker, str], smtp: SmtpReceiver
) -> None:
    service, worker, referral_id = referred
    assert (
        service.amend_referral(
            referral_id,
            action=ReferralAction.CANCEL,
            amendment_id="x2",
            by="nurse-17",
            reasons="Family moved; referral no longer needed.",
        )
        is None
    )
    worker.run_once()
    assert smtp.mailbox.messages == []
    stored = service.store.get_referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.CANCELLED


def test_two_different_updates_are_both_sent_but_a_repeated_one_is_not(
    referred: tuple[Service, OutboxWorker, str], smtp: SmtpReceiver
) -> None:
    service, worker, referral_id = referred
    worker.run_once()
    for amendment_id in ("u1", "u2", "u1"):
        service.amend_referral(
            referral_id,
            action=ReferralAction.UPDATE,
            amendment_id=amendment_id,
            by="nurse-17",
            reasons=f"New information ({amendment_id}).",
        )
    worker.run_once()
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert subjects.count(f"UPDATED: safeguarding referral {referral_id}") == 2


def test_changing_a_referral_needs_a_reason_and_a_known_referral(
    referred: tuple[Service, OutboxWorker, str],
) -> None:
    service, _, referral_id = referred
    with pytest.raises(DecisionInvalid) as caught:
        service.amend_referral(
            referral_id, action=ReferralAction.UPDATE, amendment_id="u", by="nurse-17", reasons=" "
        )
    assert caught.value.problems[0].field == "reasons"
    with pytest.raises(UnknownReferral):
        service.amend_referral(
            "no-such", action=ReferralAction.CANCEL, amendment_id="c", by="nurse-17", reasons="x"
        )
