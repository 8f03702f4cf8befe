"""A referral's life on both backends: each change made once, cancelled referrals left alone,
and two instances asked at once never sending twice. Delivery goes to a real SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Referral, ReferralAction, ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.service import ReferralConflict, Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@dataclass
class Referred:
    service: Service
    worker: OutboxWorker
    referral_id: str
    config_path: Path
    db_url: str

    def another_instance(self) -> Service:
        return Service(
            load_trust_config(self.config_path),
            open_store(self.db_url),
            entry_points=False,
            clock=FakeClock(NOW),
        )

    def change(self, action: ReferralAction, amendment_id: str) -> Referral | None:
        return self.service.amend_referral(
            self.referral_id,
            action=action,
            amendment_id=amendment_id,
            by="nurse-17",
            reasons=f"Changed ({amendment_id}).",
        )

    def kinds(self) -> list[str]:
        return [e.kind for e in self.service.store.audit_entries()]

    def messages(self, action: ReferralAction) -> list[Referral]:
        return [
            r.referral
            for r in self.service.store.list_referrals()
            if r.referral.action is action and r.referral.amends == self.referral_id
        ]


@pytest.fixture
def referred(db_url: str, make_config: Any, smtp: SmtpReceiver) -> Iterator[Referred]:
    path = make_config(smtp.port)
    config = load_trust_config(path)
    service = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
    service.accept_contact(contact_from_dict(contact_doc("c-life"), config.code_lists))
    (referral,) = service.record_decision(
        decision_from_dict(decision_doc(), contact_id="c-life", now=NOW)
    ).referrals
    yield Referred(service, OutboxWorker(service), referral.id, path, db_url)
    service.close()


def test_cancelling_a_sent_referral_twice_sends_one_cancellation(
    referred: Referred, smtp: SmtpReceiver
) -> None:
    referred.worker.run_once()
    first = referred.change(ReferralAction.CANCEL, "x1")
    again = referred.change(ReferralAction.CANCEL, "x2")
    assert first is not None and again == first
    referred.worker.run_once()
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert subjects.count(f"CANCELLED: safeguarding referral {referred.referral_id}") == 1
    assert referred.kinds().count("referral.cancel") == 1
    stored = referred.service.referral(referred.referral_id)
    assert stored is not None and stored.status is ReferralStatus.CANCELLED


def test_cancelling_an_unsent_referral_twice_withdraws_it_and_sends_nothing(
    referred: Referred, smtp: SmtpReceiver
) -> None:
    assert referred.change(ReferralAction.CANCEL, "x1") is None
    assert referred.change(ReferralAction.CANCEL, "x2") is None
    referred.worker.run_once()
    assert smtp.mailbox.messages == []
    assert referred.messages(ReferralAction.CANCEL) == []
    assert referred.kinds().count("referral.withdrawn") == 1


def test_a_cancelled_referral_cannot_be_acknowledged_or_updated(referred: Referred) -> None:
    referred.change(ReferralAction.CANCEL, "x1")
    with pytest.raises(ReferralConflict) as acknowledged:
        referred.service.acknowledge_referral(referred.referral_id, by="nurse-17", note="phoned")
    assert acknowledged.value.status == "cancelled"
    assert str(acknowledged.value) == "this referral is cancelled: it cannot be acknowledged"
    with pytest.raises(ReferralConflict) as updated:
        referred.change(ReferralAction.UPDATE, "u1")
    assert str(updated.value) == "this referral is cancelled: it cannot be updated"
    assert referred.messages(ReferralAction.UPDATE) == []
    assert "referral.acknowledged" not in referred.kinds()


def test_an_update_sent_again_with_its_id_returns_the_first_and_sends_one(
    referred: Referred, smtp: SmtpReceiver
) -> None:
    referred.worker.run_once()
    first = referred.change(ReferralAction.UPDATE, "u1")
    referred.service.clock.now = NOW + timedelta(minutes=5)  # type: ignore[attr-defined]
    again = referred.change(ReferralAction.UPDATE, "u1")
    assert first is not None and again == first
    referred.worker.run_once()
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert subjects.count(f"UPDATED: safeguarding referral {referred.referral_id}") == 1
    assert referred.kinds().count("referral.update") == 1


def test_acknowledging_twice_is_recorded_once(referred: Referred) -> None:
    for _ in range(2):
        found = referred.service.acknowledge_referral(
            referred.referral_id, by="nurse-17", note="phoned the duty desk"
        )
        assert found is not None and found.status is ReferralStatus.ACKNOWLEDGED
    assert referred.kinds().count("referral.acknowledged") == 1


def test_cancelling_a_referral_while_a_worker_sends_it_is_refused_and_changes_nothing(
    referred: Referred,
) -> None:
    claims = referred.service.store.claim_referrals("w-1", NOW, lease_seconds=60, limit=5)
    assert [c.referral.id for c in claims] == [referred.referral_id]
    with pytest.raises(ReferralConflict) as caught:
        referred.change(ReferralAction.CANCEL, "x1")
    assert caught.value.busy and caught.value.status == "pending"
    stored = referred.service.referral(referred.referral_id)
    assert stored is not None and stored.status is ReferralStatus.PENDING
    assert referred.messages(ReferralAction.CANCEL) == []


def test_two_instances_cancelling_a_sent_referral_at_once_queue_one_cancellation(
    referred: Referred, smtp: SmtpReceiver
) -> None:
    referred.worker.run_once()
    instances = [referred.service, referred.another_instance()]
    barrier = threading.Barrier(4)
    answers: list[Referral | Exception | None] = []

    def cancel(service: Service, n: int) -> None:
        barrier.wait()
        try:
            answers.append(
                service.amend_referral(
                    referred.referral_id,
                    action=ReferralAction.CANCEL,
                    amendment_id=f"x{n}",
                    by=f"nurse-{n}",
                    reasons="Sent in error.",
                )
            )
        except Exception as exc:  # kept to fail the test with what went wrong
            answers.append(exc)
        finally:
            service.close()

    threads = [threading.Thread(target=cancel, args=(instances[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    (cancellation,) = referred.messages(ReferralAction.CANCEL)
    assert answers == [cancellation] * 4
    assert referred.kinds().count("referral.cancel") == 1
