"""Decisions not to share put before a safeguarding lead, on SQLite and PostgreSQL: stored with
the decision in one transaction, in the audit trail, heard by plugins, never twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import DecisionEscalation, EscalationKind, Lead
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import DuplicateDecision, Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.schema import MIGRATIONS

from .conftest import PATIENT_NAME, FakeClock, contact_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
TRUST_LEAD = Lead(
    "Example Named Nurse",
    "Named nurse for safeguarding children",
    "020 7000 0000; safeguarding@example-trust.nhs.uk",
)
REASONS = "Children are staying with their grandmother, who cares for them every week."
OVERRIDE = "Social worker from the front door is already with the family on the ward."


class Heard:
    """A host plugin that records the escalations it is told of."""

    def __init__(self) -> None:
        self.escalations: list[DecisionEscalation] = []

    @hookimpl
    def thinkfamily_decision_escalated(self, escalation: DecisionEscalation) -> None:
        self.escalations.append(escalation)


class Broken:
    @hookimpl
    def thinkfamily_decision_escalated(self, escalation: DecisionEscalation) -> None:
        raise ConnectionError("pager down")


def make_service(db_url: str, make_config: Any, *plugins: tuple[str, object]) -> Service:
    config = load_trust_config(make_config(2525))
    return Service(
        config, open_store(db_url), entry_points=False, clock=FakeClock(NOW), extra=plugins
    )


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def service(db_url: str, make_config: Any, heard: Heard) -> Service:
    return make_service(db_url, make_config, ("test-host", heard))


def not_sharing(level: int, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": f"d-{level}-not",
        "decided_by": {"id": "nurse-17", "role": "staff nurse"},
        "share": False,
        "level_of_need": level,
        "reasons": REASONS,
        "escalated_to": {"name": "Jo Example", "role": "Ward safeguarding lead"},
    }
    if level == 4:
        doc["no_action_override_reason"] = OVERRIDE
    return doc | extra


def record(service: Service, contact_id: str, doc: dict[str, Any]) -> Any:
    service.accept_contact(contact_from_dict(contact_doc(contact_id), service.config.code_lists))
    return service.record_decision(decision_from_dict(doc, contact_id=contact_id, now=NOW))


def audit(service: Service, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.actor, e.subject, json.loads(e.details))
        for e in service.store.audit_entries()
        if e.kind == kind
    ]


def test_level_4_not_shared_with_a_named_lead_stores_both_escalations_with_the_decision(
    service: Service,
) -> None:
    recorded = record(service, "c-4", not_sharing(4))
    assert recorded.referrals == ()
    named, override = recorded.escalations
    assert (named.kind, named.lead) == (
        EscalationKind.NOT_SHARED,
        Lead("Jo Example", "Ward safeguarding lead"),
    )
    assert (override.kind, override.lead) == (EscalationKind.OVERRIDE, TRUST_LEAD)
    stored = service.store.list_decision_escalations(contact_id="c-4")
    assert sorted(stored, key=lambda e: e.kind.value) == [named, override]
    assert all(e.decision_id == "d-4-not" and e.level_of_need == 4 for e in stored)
    assert service.store.get_contact("c-4").state == "decided"  # type: ignore[union-attr]


def test_not_sharing_at_level_3_stores_one_escalation_to_the_named_lead(
    service: Service,
) -> None:
    (escalation,) = record(service, "c-3", not_sharing(3)).escalations
    assert escalation.kind is EscalationKind.NOT_SHARED
    assert service.store.list_decision_escalations() == [escalation]


def test_the_override_alerts_the_configured_lead_through_the_hook_after_the_commit(
    service: Service, heard: Heard
) -> None:
    doc = not_sharing(2, immediate_danger=True, no_action_override_reason=OVERRIDE)
    del doc["escalated_to"]
    recorded = record(service, "c-danger", doc)
    assert heard.escalations == list(recorded.escalations)
    (escalation,) = heard.escalations
    assert escalation.kind is EscalationKind.OVERRIDE and escalation.lead == TRUST_LEAD
    assert escalation.immediate_danger is True
    assert service.store.list_decision_escalations() == [escalation]


def test_each_escalation_is_in_the_audit_trail_with_the_lead_and_ids_only(
    service: Service,
) -> None:
    record(service, "c-audit", not_sharing(4))
    entries = audit(service, "decision.escalated")
    assert [(actor, details["kind"]) for actor, _, details in entries] == [
        ("nurse-17", "not_shared"),
        ("nurse-17", "override"),
    ]
    assert {subject for _, subject, _ in entries} == {
        e.id for e in service.store.list_decision_escalations()
    }
    _, _, details = entries[1]
    assert details["decision"] == "d-4-not" and details["contact"] == "c-audit"
    assert details["lead"] == {
        "name": TRUST_LEAD.name,
        "role": TRUST_LEAD.role,
        "contact": TRUST_LEAD.contact,
    }
    assert REASONS not in json.dumps(details) and OVERRIDE not in json.dumps(details)
    (_, _, decision) = audit(service, "decision.recorded")[0]
    assert decision["escalated_to"] == {
        "name": "Jo Example",
        "role": "Ward safeguarding lead",
        "contact": "",
    }
    assert service.store.verify_audit() == (len(service.store.audit_entries()), None)


def test_an_escalation_holds_no_reasons_and_nothing_that_identifies_the_patient(
    service: Service,
) -> None:
    record(service, "c-private", not_sharing(4))
    with service.store.transaction() as tx:
        rows = tx.all("SELECT escalation FROM decision_escalations")
    assert len(rows) == 2
    for (text,) in rows:
        assert REASONS not in text and OVERRIDE not in text and PATIENT_NAME not in text


def test_a_repeated_decision_does_not_escalate_twice(service: Service, heard: Heard) -> None:
    record(service, "c-again", not_sharing(3))
    decision = decision_from_dict(not_sharing(3), contact_id="c-again", now=NOW)
    with pytest.raises(DuplicateDecision):
        service.record_decision(decision)
    assert len(service.store.list_decision_escalations()) == 1
    assert len(heard.escalations) == 1


def test_a_refused_decision_stores_no_escalation(service: Service, heard: Heard) -> None:
    with pytest.raises(DecisionInvalid):
        record(service, "c-thin", not_sharing(3, reasons="Fine."))
    assert service.store.list_decision_escalations() == []
    assert service.store.get_decisions("c-thin") == []
    assert heard.escalations == []


def test_a_failing_escalation_hook_leaves_the_decision_and_escalation_recorded(
    db_url: str, make_config: Any
) -> None:
    service = make_service(db_url, make_config, ("pager", Broken()))
    record(service, "c-pager", not_sharing(4))
    assert len(service.store.get_decisions("c-pager")) == 1
    assert len(service.store.list_decision_escalations()) == 2
    counters = service.store.counters()
    assert counters["hooks.decision_escalated.failed"] == 2
    assert counters["decisions.escalated.override"] == 1


def test_advice_sought_is_stored_with_the_decision_and_shown_in_the_audit(
    service: Service,
) -> None:
    advice = {
        "name": "Sam Adviser",
        "role": "Named nurse for safeguarding children",
        "sought_at": "2026-03-03T09:20:00+00:00",
        "advice": "Not sharing is reasonable; tell the health visitor.",
    }
    record(service, "c-advice", not_sharing(3, advice_sought=advice))
    (decision,) = service.store.get_decisions("c-advice")
    assert decision.advice_sought is not None
    assert decision.advice_sought.name == "Sam Adviser"
    assert decision.advice_sought.sought_at == datetime(2026, 3, 3, 9, 20, tzinfo=UTC)
    (_, _, details) = audit(service, "decision.recorded")[0]
    assert details["advice_sought"] == advice


def test_lado_criteria_and_consent_confirmation_are_stored_and_audited(
    service: Service,
) -> None:
    doc = {
        "id": "d-lado",
        "decided_by": {"id": "nurse-17"},
        "share": True,
        "level_of_need": 2,
        "reasons": "A youth worker was seen hitting the child at the club.",
        "what_shared": "What the parent told us about the youth worker.",
        "lawful_basis": "consent",
        "consent": "given",
        "consent_basis_confirmed": True,
        "lado_criteria": ["harmed_child", "not_suitable"],
    }
    recorded = record(service, "c-lado", doc)
    assert [r.route.value for r in recorded.referrals] == ["lado", "early_help"]
    (decision,) = service.store.get_decisions("c-lado")
    assert [c.value for c in decision.lado_criteria] == ["harmed_child", "not_suitable"]
    assert decision.consent_basis_confirmed is True
    (_, _, details) = audit(service, "decision.recorded")[0]
    assert details["lado_criteria"] == ["harmed_child", "not_suitable"]
    assert details["consent_basis_confirmed"] is True


def test_a_database_made_before_escalations_is_migrated_to_hold_them(
    db_url: str, make_config: Any
) -> None:
    old = open_store(db_url, migrate=False)
    before = next(i for i, m in enumerate(MIGRATIONS) if "decision_escalations" in m[0])
    with old.transaction() as tx:
        tx.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, statements in enumerate(MIGRATIONS[:before], start=1):
            for statement in statements:
                tx.execute(statement)
            tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    old.close()
    service = make_service(db_url, make_config)
    record(service, "c-upgraded", not_sharing(3))
    assert len(service.store.list_decision_escalations()) == 1


def test_escalations_are_listed_newest_first_and_by_contact(service: Service, db_url: str) -> None:
    record(service, "c-first", not_sharing(3))
    clock: FakeClock = service.clock  # type: ignore[assignment]
    clock.now = NOW.replace(hour=11)
    record(service, "c-second", not_sharing(3, id="d-second"))
    listed = service.store.list_decision_escalations()
    assert [e.contact_id for e in listed] == ["c-second", "c-first"]
    assert [e.contact_id for e in service.store.list_decision_escalations(limit=1)] == ["c-second"]
    assert [
        e.contact_id for e in service.store.list_decision_escalations(contact_id="c-first")
    ] == ["c-first"]
