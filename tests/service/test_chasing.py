"""Every referral is chased: routine and LADO referrals as well as urgent ones (issue 11).

A real SMTP server takes the email; the clock is moved by hand. The test directory's routes are
all email; its front door's number is 020 0000 0001 and its duty team's 020 0000 0002, and the
early help and LADO routes give no number of their own. Office hours are 09:00-17:00 London
time; in 2026 the clocks go forward on 29 March and 4 May is a bank holiday.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from hooks import hookimpl
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.http import build_app
from plugin_core.model import (
    Prompt,
    PromptCode,
    Receipt,
    Referral,
    ReferralAction,
    ReferralStatus,
    Severity,
)
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.clock import LONDON
from plugin_core.service import Service, StoredReferral
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc

with warnings.catch_warnings():
    # Starlette would rather its test client ran on a successor of httpx; httpx works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

FRONT_DOOR = "020 0000 0001"
DUTY_TEAM = "020 0000 0002"
TOKEN = "chasing-test-token-of-at-least-32-characters"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@dataclass(eq=False)  # pluggy keeps plugins in sets
class HostSpy:
    """A host that keeps every referral update it is told of."""

    updates: list[tuple[str, ReferralStatus, Prompt | None]] = field(default_factory=list)

    @hookimpl
    def thinkfamily_referral_update(
        self,
        referral: Referral,
        status: ReferralStatus,
        receipt: Receipt | None,
        prompt: Prompt | None,
    ) -> None:
        self.updates.append((referral.id, status, prompt))


@dataclass
class Trust:
    service: Service
    worker: OutboxWorker
    clock: FakeClock
    host: HostSpy
    api: Any
    smtp: SmtpReceiver

    def decide(self, contact_id: str, **extra: Any) -> str:
        """Record a contact and a sharing decision now; returns the one referral's id."""
        when = self.clock.now.isoformat()
        doc = contact_doc(contact_id, occurred_at=when)
        self.service.accept_contact(contact_from_dict(doc, self.service.config.code_lists))
        decided = decision_doc(level=extra.pop("level", 3)) | extra
        self.service.record_decision(
            decision_from_dict(decided, contact_id=contact_id, now=self.clock.now)
        )
        (stored,) = self.service.referrals(contact_id=contact_id)
        return stored.referral.id

    def at(self, when: datetime) -> None:
        """Move the clock to ``when`` and let the worker run one cycle."""
        self.clock.now = when
        self.worker.run_once()

    def stored(self, referral_id: str) -> StoredReferral:
        found = self.service.referral(referral_id)
        assert found is not None
        return found

    def escalations(self) -> list[dict[str, Any]]:
        answer = self.api.get("/api/escalations", headers=HEADERS)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["escalations"]
        return rows


@pytest.fixture
def trust(tmp_path: Path, make_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A service on the test directory with a clock starting at ``start``."""
    made: list[Service] = []

    def start(at: datetime) -> Trust:
        smtp = SmtpReceiver().__enter__()
        config = load_trust_config(make_config(smtp.port))
        monkeypatch.setenv(config.api_token_env, TOKEN)
        clock = FakeClock(at)
        host = HostSpy()
        service = Service(
            config,
            open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
            entry_points=False,
            extra=[("host-spy", host)],
            clock=clock,
        )
        made.append(service)
        smtps.append(smtp)
        return Trust(
            service, OutboxWorker(service), clock, host, TestClient(build_app(service)), smtp
        )

    smtps: list[SmtpReceiver] = []
    yield start
    for service in made:
        service.close()
    for smtp in smtps:
        smtp.__exit__(None, None, None)


# Routine work out of hours ----------------------------------------------------------------------


def test_level_3_on_a_saturday_is_emailed_to_the_front_door_at_once_marked_for_monday(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 7, 11))
    referral_id = t.decide("c-saturday")
    t.worker.run_once()
    stored = t.stored(referral_id)
    assert stored.status is ReferralStatus.DELIVERED and stored.prompt is None
    (message,) = t.smtp.mailbox.messages
    assert message["To"] == "front-door@testborough.example"
    assert stored.receipt is not None and stored.receipt.opens_at == london(2026, 3, 9, 9)
    shown = t.api.get(f"/api/referrals/{referral_id}", headers=HEADERS).json()
    assert shown["status"] == "delivered" and shown["opens_at"] == "2026-03-09T09:00:00+00:00"
    assert t.escalations() == []
    assert [(rid, status) for rid, status, _ in t.host.updates] == [
        (referral_id, ReferralStatus.DELIVERED)
    ]
    (entry,) = t.service.audit_entries(kind="referral.delivered")
    assert json.loads(entry.details)["opens_at"] == "2026-03-09T09:00:00+00:00"


def test_level_4_on_a_saturday_goes_to_the_emergency_duty_team_at_once(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 7, 11))
    referral_id = t.decide("c-saturday-4", level=4)
    t.worker.run_once()
    (message,) = t.smtp.mailbox.messages
    assert message["To"] == "edt@testborough.example"
    stored = t.stored(referral_id)
    assert stored.status is ReferralStatus.DELIVERED
    assert stored.receipt is not None and stored.receipt.opens_at is None


# Routine and LADO referrals are chased ----------------------------------------------------------


def test_routine_referral_escalates_after_24_working_hours_from_friday_evening(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 6, 17, 30))
    referral_id = t.decide("c-friday")
    t.worker.run_once()
    assert t.stored(referral_id).referral.due_by == london(2026, 3, 11, 17)
    t.at(london(2026, 3, 9, 17, 30))  # 72 hours on the clock, 8 working hours
    t.at(london(2026, 3, 11, 16, 59))
    assert t.stored(referral_id).escalated_at is None and t.escalations() == []
    t.at(london(2026, 3, 11, 17, 1))
    stored = t.stored(referral_id)
    assert stored.escalated_at is not None and stored.status is ReferralStatus.DELIVERED
    assert stored.prompt is not None and stored.prompt.code is PromptCode.CALL_NOW
    assert stored.prompt.severity is Severity.WARNING
    assert stored.prompt.summary == (
        f"Phone Test Borough from 09:00 on Thursday 12 March: {FRONT_DOOR}."
    )
    assert (referral_id, ReferralStatus.ESCALATED, stored.prompt) in t.host.updates
    (entry,) = t.service.audit_entries(kind="referral.escalated")
    details = json.loads(entry.details)
    assert details["urgent"] is False and details["phones"] == [FRONT_DOOR]
    t.at(london(2026, 3, 11, 18))
    assert len(t.service.audit_entries(kind="referral.escalated")) == 1  # escalated once


def test_routine_referral_over_a_bank_holiday_weekend_escalates_a_working_day_later(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 5, 1, 17, 30))  # Monday 4 May is a bank holiday
    referral_id = t.decide("c-may")
    t.worker.run_once()
    t.at(london(2026, 5, 6, 17, 1))
    assert t.stored(referral_id).escalated_at is None
    t.at(london(2026, 5, 7, 17, 1))
    assert t.stored(referral_id).escalated_at is not None


def test_routine_escalation_in_the_clock_change_week_keeps_to_london_hours(trust: Any) -> None:
    # Friday 27 March, 17:30 GMT; the clocks go forward on Sunday. Due at 17:00 BST on
    # Wednesday 1 April, which is 16:00 UTC.
    t: Trust = trust(london(2026, 3, 27, 17, 30))
    referral_id = t.decide("c-spring")
    t.worker.run_once()
    assert t.stored(referral_id).referral.due_by == datetime(2026, 4, 1, 16, 0, tzinfo=UTC)
    t.at(datetime(2026, 4, 1, 15, 59, tzinfo=UTC))
    assert t.stored(referral_id).escalated_at is None
    t.at(datetime(2026, 4, 1, 16, 0, 30, tzinfo=UTC))
    assert t.stored(referral_id).escalated_at is not None
    (row,) = t.escalations()
    assert row["call"]["available_from"] == "2026-04-02T09:00:00+01:00"


def test_lado_referral_escalates_after_one_working_day(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 3, 10))  # Tuesday
    referral_id = t.decide(
        "c-lado",
        level=1,
        concerns_person_working_with_children=True,
        lado_criteria=["harmed_child"],
    )
    t.worker.run_once()
    (message,) = t.smtp.mailbox.messages
    assert message["To"] == "lado@testborough.example"
    t.at(london(2026, 3, 4, 9, 59))
    assert t.stored(referral_id).escalated_at is None
    t.at(london(2026, 3, 4, 10, 1))
    stored = t.stored(referral_id)
    assert stored.escalated_at is not None and stored.prompt is not None
    # The LADO route has no number of its own: children's services take the call in hours.
    assert stored.prompt.summary == f"Phone Test Borough now: {FRONT_DOOR}."
    (row,) = t.escalations()
    assert row["route"] == "lado"
    assert row["call"] == {
        "number": FRONT_DOOR,
        "label": "Test Borough children's services",
        "available_now": True,
        "available_from": None,
    }


def test_urgent_referral_still_escalates_after_its_minutes(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 3, 10))
    referral_id = t.decide("c-urgent", level=4)
    t.worker.run_once()
    t.at(london(2026, 3, 3, 10, 59))
    assert t.stored(referral_id).escalated_at is None
    t.at(london(2026, 3, 3, 11, 1))
    stored = t.stored(referral_id)
    assert stored.prompt is not None and stored.prompt.severity is Severity.CRITICAL
    assert stored.prompt.summary == f"Phone Test Borough now: {FRONT_DOOR}."


# /api/escalations: who to call and when, as fields ----------------------------------------------


def test_escalations_show_the_numbers_as_fields_for_the_moment_they_are_shown(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 6, 17, 30))
    referral_id = t.decide("c-fields")
    t.worker.run_once()
    t.at(london(2026, 3, 11, 17, 1))  # overdue, after closing on Wednesday
    (row,) = t.escalations()
    assert row["id"] == referral_id and row["route"] == "front_door"
    assert row["urgent"] is False and row["status"] == "delivered"
    later = {
        "number": FRONT_DOOR,
        "label": "Test Borough children's services",
        "available_now": False,
        "available_from": "2026-03-12T09:00:00+00:00",
    }
    assert row["call"] == later and row["calls"] == [later]
    assert row["prompt"]["summary"] == (
        f"Phone Test Borough from 09:00 on Thursday 12 March: {FRONT_DOOR}."
    )
    # On Thursday morning the same escalation says to ring now.
    t.clock.now = london(2026, 3, 12, 9, 30)
    (row,) = t.escalations()
    assert row["call"] == later | {"available_now": True, "available_from": None}
    assert row["prompt"]["summary"] == f"Phone Test Borough now: {FRONT_DOOR}."


def test_urgent_escalation_on_a_saturday_lists_the_duty_team_now_and_the_front_door_later(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 7, 11))
    t.decide("c-weekend", level=4)
    t.worker.run_once()
    t.at(london(2026, 3, 7, 12, 1))
    (row,) = t.escalations()
    assert row["urgent"] is True
    assert [(c["number"], c["available_now"], c["available_from"]) for c in row["calls"]] == [
        (DUTY_TEAM, True, None),
        (FRONT_DOOR, False, "2026-03-09T09:00:00+00:00"),
    ]
    assert row["call"]["number"] == DUTY_TEAM
    assert row["prompt"]["summary"] == f"Phone Test Borough now: {DUTY_TEAM}."


# Acknowledging clears the call ------------------------------------------------------------------


def test_acknowledging_clears_the_escalation_and_tells_the_host(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 6, 17, 30))
    referral_id = t.decide("c-ack")
    t.worker.run_once()
    t.at(london(2026, 3, 11, 17, 1))
    assert [r["id"] for r in t.escalations()] == [referral_id]
    answer = t.api.post(
        f"/api/referrals/{referral_id}/acknowledge",
        json={"by": "nurse-17", "how": "Front door confirmed by phone"},
        headers=HEADERS,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "acknowledged" and answer.json()["prompt"] is None
    assert t.escalations() == []
    assert t.host.updates[-1] == (referral_id, ReferralStatus.ACKNOWLEDGED, None)
    stored = t.stored(referral_id)
    assert stored.status is ReferralStatus.ACKNOWLEDGED and stored.prompt is None
    t.at(london(2026, 3, 12, 10))
    assert t.escalations() == []


def test_acknowledged_routine_referral_is_never_chased(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 3, 10))
    referral_id = t.decide("c-ack-early")
    t.worker.run_once()
    t.service.acknowledge_referral(referral_id, by="nurse-17", note="Reply seen")
    t.at(london(2026, 3, 3, 10) + timedelta(days=14))
    assert t.stored(referral_id).escalated_at is None
    assert t.service.audit_entries(kind="referral.escalated") == []


def test_a_cancellation_is_chased_too_and_its_prompt_says_so(trust: Any) -> None:
    t: Trust = trust(london(2026, 3, 3, 10))
    referral_id = t.decide("c-cancel")
    t.worker.run_once()
    t.clock.now = london(2026, 3, 3, 11)
    cancellation = t.service.amend_referral(
        referral_id,
        action=ReferralAction.CANCEL,
        amendment_id="cancel-1",
        by="nurse-17",
        reasons="Referred to the wrong authority.",
    )
    assert cancellation is not None
    t.worker.run_once()
    assert cancellation.due_by == london(2026, 3, 6, 11)  # 24 working hours
    t.at(london(2026, 3, 6, 11, 1))
    stored = t.stored(cancellation.id)
    assert stored.escalated_at is not None and stored.prompt is not None
    assert stored.prompt.detail.startswith(
        "The cancellation of the referral has not been acknowledged."
    )
    assert cancellation.id in [r["id"] for r in t.escalations()]


# Told again when the route opens -----------------------------------------------------------------


def test_an_escalation_raised_at_closing_is_told_again_once_when_the_route_opens(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 6, 17, 30))
    referral_id = t.decide("c-remind")
    t.worker.run_once()
    t.at(london(2026, 3, 11, 17, 1))  # overdue just after the front door closed
    later = t.stored(referral_id).prompt
    assert later is not None and "from 09:00 on Thursday 12 March" in later.summary
    t.at(london(2026, 3, 12, 8, 59))
    assert t.service.audit_entries(kind="referral.reminded") == []
    t.at(london(2026, 3, 12, 9, 1))
    now = t.stored(referral_id).prompt
    assert now is not None and now.summary == f"Phone Test Borough now: {FRONT_DOOR}."
    assert now.severity is Severity.WARNING
    assert t.host.updates[-1] == (referral_id, ReferralStatus.ESCALATED, now)
    (entry,) = t.service.audit_entries(kind="referral.reminded")
    assert json.loads(entry.details) == {"phones": [FRONT_DOOR], "route": "front_door"}
    told = len(t.host.updates)
    for when in (london(2026, 3, 12, 9, 30), london(2026, 3, 12, 17, 30), london(2026, 3, 13, 10)):
        t.at(when)
    assert len(t.service.audit_entries(kind="referral.reminded")) == 1  # told again once
    assert len(t.host.updates) == told
    assert len(t.smtp.mailbox.messages) == 1  # the authority is not sent the referral again


def test_an_escalation_acknowledged_before_the_route_opens_is_not_told_again(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 6, 17, 30))
    referral_id = t.decide("c-remind-ack")
    t.worker.run_once()
    t.at(london(2026, 3, 11, 17, 1))
    t.service.acknowledge_referral(referral_id, by="nurse-17", note="Duty desk rang back")
    t.at(london(2026, 3, 12, 9, 30))
    assert t.service.audit_entries(kind="referral.reminded") == []
    assert t.host.updates[-1][1] is ReferralStatus.ACKNOWLEDGED


def test_an_urgent_escalation_rung_at_once_is_not_told_again_when_the_front_door_opens(
    trust: Any,
) -> None:
    t: Trust = trust(london(2026, 3, 7, 11))
    t.decide("c-remind-urgent", level=4)
    t.worker.run_once()
    t.at(london(2026, 3, 7, 12, 1))  # the duty team is rung now
    t.at(london(2026, 3, 9, 9, 30))
    assert t.service.audit_entries(kind="referral.reminded") == []
