"""The worklist and the leads' dashboard, counted by the store and the service on SQLite and
PostgreSQL from synthetic contacts, decisions and referrals across weeks and units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Channel, Receipt, ReferralStatus
from plugin_core.service import Outcome, Service
from plugin_core.service.figures import NOT_SHARED, ROUTES
from plugin_core.service.worklist import Waiting
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import CHILD_DOB, CHILD_NAME, FakeClock

LAST_WEEK = datetime(2026, 2, 24, 10, 0, tzinfo=UTC)  # Tuesday of the week of Mon 23 Feb
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # Tuesday of the week of Mon 2 Mar
WARD7 = "RFH/WARD7"
MH_TEAM = "MH/TEAM-EAST"


def adult(
    contact_id: str,
    location: str,
    at: datetime,
    *,
    household: bool = True,
    recorded_after: timedelta | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": contact_id,
        "occurred_at": at.isoformat(),
        "patient": {"id": f"p-{contact_id}", "name": f"Adult {contact_id}", "postcode": "ZZ1 5AB"},
        "encounter": {"id": f"e-{contact_id}", "kind": "inpatient", "location": location},
        "household": None,
        "indicators": [{"kind": "mental_health"}],
    }
    if household:
        doc["household"] = [
            {
                "id": "k-1",
                "name": CHILD_NAME,
                "birth_date": CHILD_DOB,
                "relationship": "child",
                "lives_with_patient": True,
            }
        ]
    if recorded_after is not None:
        doc["household_recorded_at"] = (at + recorded_after).isoformat()
    return doc


def decision(contact_id: str, *, level: int, share: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": f"d-{contact_id}",
        "decided_by": {"id": "nurse-17", "role": "staff nurse"},
        "share": share,
        "level_of_need": level,
        "reasons": "Children are staying with their grandmother, who cares for them every week.",
        "lawful_basis": "public_task",
        "consent": "not_sought",
        "consent_not_sought_reason": "Synthetic reason.",
        "what_shared": "Synthetic summary.",
    }
    if not share:
        doc["escalated_to"] = {"name": "Jo Example", "role": "Ward safeguarding lead"}
    return doc


class Scene:
    def __init__(self, service: Service, clock: FakeClock) -> None:
        self.service, self.clock = service, clock

    def contact(self, doc: dict[str, Any], at: datetime) -> None:
        self.clock.now = at
        self.service.accept_contact(contact_from_dict(doc, self.service.config.code_lists))

    def decide(self, contact_id: str, at: datetime, **kwargs: Any) -> Any:
        self.clock.now = at
        doc = decision(contact_id, **kwargs)
        return self.service.record_decision(decision_from_dict(doc, contact_id=contact_id, now=at))

    def deliver(self, at: datetime) -> None:
        self.clock.now = at
        for claim in self.service.claim_referrals("w", lease_seconds=30, limit=10):
            receipt = Receipt(Channel.EMAIL, delivered=True)
            outcome = Outcome(ReferralStatus.DELIVERED, receipt)
            self.service.record_attempt(claim, "w", outcome, retry_at=None)


@pytest.fixture
def scene(db_url: str, make_config: Any) -> Scene:
    config = load_trust_config(make_config(2525))
    clock = FakeClock(NOW)
    service = Service(config, open_store(db_url), entry_points=False, clock=clock)
    s = Scene(service, clock)
    # Last week, ward 7: one shared at level 3, delivered in 2 hours and acknowledged in 6;
    # one whose household was never asked.
    s.contact(adult("a1", f"{WARD7}/BAY1/BED2", LAST_WEEK), LAST_WEEK)
    referral = s.decide("a1", LAST_WEEK + timedelta(minutes=30), level=3).referrals[0]
    s.deliver(LAST_WEEK + timedelta(hours=2, minutes=30))
    s.clock.now = LAST_WEEK + timedelta(hours=6, minutes=30)
    s.service.acknowledge_referral(referral.id, by="nurse-17", note="phoned")
    s.contact(adult("a2", f"{WARD7}/BAY3/BED1", LAST_WEEK, household=False), LAST_WEEK)
    # This week: the mental-health team does not share at level 3 (escalated to a lead);
    # ward 9 records a household 30 hours late; ward 7 shares at level 2, not yet sent.
    s.contact(adult("b1", MH_TEAM, NOW - timedelta(hours=5)), NOW - timedelta(hours=5))
    s.decide("b1", NOW - timedelta(hours=4), level=3, share=False)
    late = adult(
        "b2", "RFH/WARD9/BED4", NOW - timedelta(hours=3), recorded_after=timedelta(hours=30)
    )
    s.contact(late, NOW - timedelta(hours=3))
    s.contact(adult("b3", f"{WARD7}/BAY2/BED6", NOW - timedelta(hours=2)), NOW - timedelta(hours=2))
    s.decide("b3", NOW - timedelta(hours=1), level=2)
    # The mental-health team sees the same adult again at a care-programme meeting.
    again = adult("b1", MH_TEAM, NOW - timedelta(minutes=30)) | {"id": "b1-cpa"}
    s.contact(again, NOW - timedelta(minutes=30))
    s.clock.now = NOW
    return s


def test_dashboard_counts_contacts_prompts_decisions_and_referrals_by_week(scene: Scene) -> None:
    board = scene.service.dashboard(weeks=2)
    last, this = board.weeks
    assert (last.label, this.label) == ("2026-02-23", "2026-03-02")
    assert (last.contacts, last.recorded, last.recorded_within_24h) == (2, 1, 1)
    assert (this.contacts, this.recorded, this.recorded_within_24h) == (4, 4, 3)
    assert (last.shown, last.answered, last.suppressed) == (2, 1, 0)
    assert (this.shown, this.answered, this.suppressed) == (3, 2, 1)
    levels = dict(board.decisions)
    assert levels["3"][ROUTES.index("front_door")] == 1
    assert levels["3"][ROUTES.index(NOT_SHARED)] == 1
    assert levels["2"][ROUTES.index("early_help")] == 1
    assert sum(sum(row) for _, row in board.decisions) == 3
    assert [(e.week, e.not_shared, e.overrides) for e in board.escalations] == [
        ("2026-02-23", 0, 0),
        ("2026-03-02", 1, 0),
    ]
    (borough,) = board.authorities
    assert (borough.authority, borough.referrals, borough.delivered, borough.acknowledged) == (
        "Test Borough",
        2,
        1,
        1,
    )
    assert borough.median_hours_to_delivery == 2.0
    assert borough.median_hours_to_acknowledgement == 6.0


def test_dashboard_for_one_unit_counts_only_its_contacts(scene: Scene) -> None:
    board = scene.service.dashboard(weeks=2, unit=WARD7)
    assert board.total.contacts == 3
    assert [u.label for u in board.units] == [WARD7]
    assert sum(sum(row) for _, row in board.decisions) == 2
    assert sum(e.not_shared for e in board.escalations) == 0
    assert board.authorities[0].referrals == 2


def test_dashboard_leaves_out_weeks_before_the_period(scene: Scene) -> None:
    board = scene.service.dashboard(weeks=1)
    assert [w.label for w in board.weeks] == ["2026-03-02"]
    assert board.total.contacts == 4
    assert board.authorities[0].referrals == 1


def test_worklist_for_a_ward_lists_the_household_question_and_unacknowledged_referral(
    scene: Scene,
) -> None:
    found = scene.service.worklist(scope=[WARD7])
    waiting = sorted((i.waiting.value, i.contact_id) for i in found.items)
    assert waiting == [("acknowledgement", "b3"), ("household", "a2")]
    assert found.units == (WARD7,)
    assert all("WARD9" not in i.location for i in found.items)


def test_worklist_outside_the_callers_units_is_empty(scene: Scene) -> None:
    assert scene.service.worklist(scope=[WARD7], unit="RFH/WARD9").items == ()


def test_worklist_shows_when_the_adults_children_were_last_considered(scene: Scene) -> None:
    found = scene.service.worklist(scope=None, unit=MH_TEAM, waiting=Waiting.REVIEW)
    (review,) = found.items
    assert review.contact_id == "b1-cpa"
    assert review.last_considered == NOW - timedelta(hours=4)


def test_worklist_filters_by_what_is_waiting(scene: Scene) -> None:
    found = scene.service.worklist(scope=None, waiting=Waiting.HOUSEHOLD)
    assert [i.contact_id for i in found.items] == ["a2"]
    units = set(scene.service.worklist(scope=None).units)
    assert {WARD7, "RFH/WARD9", MH_TEAM} <= units


def test_a_decision_that_replaces_another_counts_once_under_the_route_it_updated(
    scene: Scene,
) -> None:
    at = NOW - timedelta(minutes=20)
    scene.contact(adult("c1", WARD7, at), at)
    scene.decide("c1", at + timedelta(minutes=1), level=3)
    scene.deliver(at + timedelta(minutes=2))
    scene.clock.now = at + timedelta(minutes=3)
    doc = decision("c1", level=4) | {"id": "d-c1-again", "supersedes": "d-c1"}
    scene.service.record_decision(decision_from_dict(doc, contact_id="c1", now=scene.clock.now))
    scene.clock.now = NOW
    levels = dict(scene.service.dashboard(weeks=1, unit=WARD7).decisions)
    assert sum(levels["4"]) == 1 and levels["4"][ROUTES.index("front_door")] == 1
    assert levels["3"] == (0,) * len(ROUTES)
