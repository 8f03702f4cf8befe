"""Urgent referrals not acknowledged by their deadline prompt the professional to phone.

A real SMTP server takes the email; the clock is moved by hand so office hours are exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import PromptCode, ReferralStatus, Severity
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.clock import LONDON
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc

REDBRIDGE_OFFICE = "020 8708 3885"
REDBRIDGE_EVENINGS = "020 8708 5897"


def _london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


@pytest.fixture
def smtp() -> Any:
    with SmtpReceiver() as receiver:
        yield receiver


def _urgent_referral(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver, start: datetime
) -> tuple[Service, OutboxWorker, FakeClock]:
    # The example directory: Redbridge takes referrals by email in office hours, by phone after.
    config = load_trust_config(make_config(smtp.port, authorities=None))
    clock = FakeClock(start)
    service = Service(
        config, open_store(f"sqlite:///{tmp_path / 'tf.db'}"), entry_points=False, clock=clock
    )
    doc = contact_doc("c-urgent", postcode="IG1 2ZZ", occurred_at=start.isoformat())
    service.accept_contact(contact_from_dict(doc, config.code_lists))
    service.record_decision(
        decision_from_dict(decision_doc(level=4), contact_id="c-urgent", now=start)
    )
    return service, OutboxWorker(service), clock


def _only_referral(service: Service) -> Any:
    (stored,) = service.store.list_referrals(contact_id="c-urgent")
    return stored


def test_urgent_email_referral_unacknowledged_in_office_hours_prompts_office_number(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver
) -> None:
    service, worker, clock = _urgent_referral(
        tmp_path, make_config, smtp, _london(2026, 3, 3, 10, 0)
    )
    worker.run_once()
    assert _only_referral(service).status is ReferralStatus.DELIVERED
    assert len(smtp.mailbox.messages) == 1
    clock.now += timedelta(minutes=59)
    worker.run_once()
    assert _only_referral(service).escalated_at is None
    clock.now += timedelta(minutes=2)
    worker.run_once()
    stored = _only_referral(service)
    assert stored.escalated_at is not None
    assert stored.prompt is not None and stored.prompt.code is PromptCode.CALL_NOW
    assert stored.prompt.severity is Severity.CRITICAL
    assert REDBRIDGE_OFFICE in stored.prompt.summary and "Redbridge" in stored.prompt.summary
    kinds = [e.kind for e in service.store.audit_entries()]
    assert kinds.count("referral.escalated") == 1


def test_escalation_after_closing_time_gives_the_evening_number(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver
) -> None:
    # Decided at 16:30 on a Friday, delivered by email; the deadline passes after 17:00.
    service, worker, clock = _urgent_referral(
        tmp_path, make_config, smtp, _london(2026, 3, 6, 16, 30)
    )
    worker.run_once()
    clock.now += timedelta(minutes=61)
    worker.run_once()
    prompt = _only_referral(service).prompt
    assert (
        prompt is not None
        and REDBRIDGE_EVENINGS in prompt.summary
        and REDBRIDGE_OFFICE not in prompt.summary
    )


@pytest.mark.parametrize(
    ("utc", "office_open"),
    [
        # 08:30 UTC on Monday 23 March is 08:30 GMT: before opening.
        ("2026-03-23T08:30:00+00:00", False),
        # 08:30 UTC on Monday 30 March, after the clocks go forward, is 09:30 BST: open.
        ("2026-03-30T08:30:00+00:00", True),
    ],
)
def test_delivery_route_across_the_clock_change_uses_london_time(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver, utc: str, office_open: bool
) -> None:
    service, worker, _ = _urgent_referral(tmp_path, make_config, smtp, datetime.fromisoformat(utc))
    worker.run_once()
    stored = _only_referral(service)
    if office_open:
        assert stored.status is ReferralStatus.DELIVERED and len(smtp.mailbox.messages) == 1
    else:
        assert stored.status is ReferralStatus.CALL_REQUIRED and smtp.mailbox.messages == []
        assert stored.prompt is not None and REDBRIDGE_EVENINGS in stored.prompt.summary


def test_acknowledged_referral_does_not_escalate(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver
) -> None:
    service, worker, clock = _urgent_referral(
        tmp_path, make_config, smtp, _london(2026, 3, 3, 10, 0)
    )
    worker.run_once()
    service.acknowledge_referral(
        _only_referral(service).referral.id, by="nurse-17", note="CPAT confirmed by phone"
    )
    clock.now += timedelta(hours=2)
    worker.run_once()
    stored = _only_referral(service)
    assert stored.status is ReferralStatus.ACKNOWLEDGED and stored.escalated_at is None


def test_referral_email_carries_idempotency_key_and_no_patient_data_in_subject(
    tmp_path: Path, make_config: Any, smtp: SmtpReceiver
) -> None:
    service, worker, _ = _urgent_referral(tmp_path, make_config, smtp, _london(2026, 3, 3, 10, 0))
    worker.run_once()
    (message,) = smtp.mailbox.messages
    referral = _only_referral(service).referral
    assert message["X-ThinkFamily-Idempotency-Key"] == referral.idempotency_key
    assert message["To"] == "CPAT.Referrals@redbridge.gov.uk"
    assert message["Subject"] == f"URGENT Safeguarding referral {referral.id}"
    (text,) = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    body = text.get_payload(decode=True).decode()
    assert "Lawful basis: Public task" in body and "age 8" in body
