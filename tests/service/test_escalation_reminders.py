"""An escalation raised while its route was closed is told again once the route opens, by one
worker only when several instances share the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc
from .test_chasing import FRONT_DOOR, london


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
