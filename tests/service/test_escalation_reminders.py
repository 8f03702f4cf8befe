"""A call prompt raised while its route was closed (an escalation, or a referral that can only
go by phone) is told again once the route opens, by one worker only when several instances
share the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import TEST_AUTHORITIES, FakeClock, contact_doc, decision_doc
from .test_chasing import FRONT_DOOR, HostSpy, london


@pytest.fixture
def two_instances(db_url: str, make_config: Any) -> Iterator[tuple[Service, Service, FakeClock]]:
    with SmtpReceiver() as smtp:
        config = load_trust_config(make_config(smtp.port))
        clock = FakeClock(london(2026, 3, 6, 17, 30))
        made = [
            Service(config, open_store(db_url), entry_points=False, clock=clock) for _ in range(2)
        ]
        yield made[0], made[1], clock
        for service in made:
            service.close()


def test_two_instances_tell_an_escalation_again_once_when_the_route_opens(
    two_instances: tuple[Service, Service, FakeClock],
) -> None:
    first, second, clock = two_instances
    doc = contact_doc("c-two-remind", occurred_at=clock.now.isoformat())
    first.accept_contact(contact_from_dict(doc, first.config.code_lists))
    first.record_decision(
        decision_from_dict(decision_doc(level=3), contact_id="c-two-remind", now=clock.now)
    )
    OutboxWorker(first).run_once()
    clock.now = london(2026, 3, 11, 17, 1)
    assert first.escalate_overdue("w-1") == 1
    assert first.remind_opened("w-1") == second.remind_opened("w-2") == 0  # still closed
    clock.now = london(2026, 3, 12, 9, 1)
    assert first.remind_opened("w-1") + second.remind_opened("w-2") == 1
    (stored,) = first.referrals(contact_id="c-two-remind")
    assert stored.prompt is not None
    assert stored.prompt.summary == f"Phone Test Borough now: {FRONT_DOOR}."
    assert len(first.audit_entries(kind="referral.reminded")) == 1


PHONE_ONLY = TEST_AUTHORITIES.replace(
    'channel = "email"\naddress = "front-door@testborough.example"', 'channel = "phone"'
)


def test_a_phone_only_referral_made_out_of_hours_is_told_again_once_when_the_route_opens(
    db_url: str, make_config: Any
) -> None:
    assert 'channel = "phone"\nphone = "020 0000 0001"' in PHONE_ONLY
    spy = HostSpy()
    with SmtpReceiver() as smtp:
        config = load_trust_config(make_config(smtp.port, authorities=PHONE_ONLY))
        clock = FakeClock(london(2026, 3, 6, 17, 30))  # a Friday, after the front door shut
        service = Service(
            config, open_store(db_url), entry_points=False, extra=[("spy", spy)], clock=clock
        )
        try:
            doc = contact_doc("c-phone-only", occurred_at=clock.now.isoformat())
            service.accept_contact(contact_from_dict(doc, config.code_lists))
            service.record_decision(
                decision_from_dict(decision_doc(level=3), contact_id="c-phone-only", now=clock.now)
            )
            worker = OutboxWorker(service)
            worker.run_once()
            (stored,) = service.referrals(contact_id="c-phone-only")
            assert stored.status is ReferralStatus.CALL_REQUIRED
            assert (
                stored.prompt is not None
                and "from 09:00 on Monday 9 March" in stored.prompt.summary
            )
            for when in (london(2026, 3, 7, 12), london(2026, 3, 9, 8, 59)):
                clock.now = when
                worker.run_once()
            assert service.audit_entries(kind="referral.reminded") == []  # still shut
            clock.now = london(2026, 3, 9, 9, 1)
            worker.run_once()
            (stored,) = service.referrals(contact_id="c-phone-only")
            now = f"Phone Test Borough now: {FRONT_DOOR}."
            assert stored.prompt is not None and stored.prompt.summary == now
            (last_id, last_status, last_prompt) = spy.updates[-1]
            assert last_id == stored.referral.id and last_status is ReferralStatus.CALL_REQUIRED
            assert last_prompt is not None and last_prompt.summary == now
            told = len(spy.updates)
            for when in (
                london(2026, 3, 9, 10),
                london(2026, 3, 9, 17, 30),
                london(2026, 3, 10, 9, 5),
            ):
                clock.now = when
                worker.run_once()
            assert len(service.audit_entries(kind="referral.reminded")) == 1  # once
            assert len(spy.updates) == told and smtp.mailbox.messages == []
        finally:
            service.close()
