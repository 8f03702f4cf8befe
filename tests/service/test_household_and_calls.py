"""Recording the household and a phone call through the service, on both real backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import (
    ContactState,
    FirstContact,
    HouseholdAnswer,
    HouseholdChild,
    HouseholdOutcome,
    PhoneCall,
    Professional,
    PromptCode,
    ReferralAction,
    ReferralStatus,
    Relationship,
)
from plugin_core.rules.household_entry import HouseholdInvalid
from plugin_core.rules.phone_call import CallInvalid
from plugin_core.service import ReferralConflict, Service
from plugin_core.service.household import HouseholdClosed
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store

from .conftest import CHILD_NAME, OTHER_CHILD_NAME, FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
NURSE = Professional("nurse-17", role="staff nurse")


@pytest.fixture
def service(db_url: str, make_config: Any) -> Iterator[Service]:
    config = load_trust_config(make_config(2525))
    found = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
    yield found
    found.close()


def unknown_household(service: Service, contact_id: str) -> None:
    doc = contact_doc(contact_id) | {"household": None}
    service.accept_contact(contact_from_dict(doc, service.config.code_lists))


def household(
    contact_id: str, outcome: HouseholdOutcome, *children: HouseholdChild, answer_id: str = "h-1"
) -> HouseholdAnswer:
    pregnant = None if outcome is HouseholdOutcome.DECLINED else False
    return HouseholdAnswer(answer_id, contact_id, outcome, NURSE, NOW, children, pregnant)


TWO_CHILDREN = (
    HouseholdChild(CHILD_NAME, Relationship.CHILD, True, birth_date=date(2017, 9, 30)),
    HouseholdChild(
        OTHER_CHILD_NAME, Relationship.STEPCHILD, False, estimated_age=3, school="Acorn Nursery"
    ),
)


def test_children_recorded_reassess_the_contact_at_once_with_an_audit_entry(
    service: Service,
) -> None:
    unknown_household(service, "c-h1")
    before = service.contact("c-h1")
    assert before is not None and "record-household" in before.prompt_codes
    recorded = service.record_household(household("c-h1", HouseholdOutcome.CHILDREN, *TWO_CHILDREN))
    after = recorded.contact
    assert after.assessment.household_known and len(after.assessment.children) == 2
    assert "record-household" not in after.prompt_codes
    assert "consider-children" in after.prompt_codes and after.state is ContactState.OPEN
    (entry,) = service.audit_entries(kind="household.recorded")
    assert entry.actor == "nurse-17" and entry.subject == "c-h1"
    details = json.loads(entry.details)
    assert details["children"] == 2 and details["estimated_ages"] == 1
    assert CHILD_NAME not in entry.details
    assert [a.id for a in service.household_answers("c-h1")] == ["h-1"]


def test_the_same_answer_again_writes_nothing_new(service: Service) -> None:
    unknown_household(service, "c-h2")
    service.record_household(household("c-h2", HouseholdOutcome.NO_CHILDREN))
    again = service.record_household(household("c-h2", HouseholdOutcome.NO_CHILDREN))
    assert again.repeat
    assert len(service.audit_entries(kind="household.recorded")) == 1


def test_no_children_settles_a_contact_with_nothing_else_to_ask(service: Service) -> None:
    doc = contact_doc("c-h3") | {"household": None, "indicators": []}
    service.accept_contact(contact_from_dict(doc, service.config.code_lists))
    after = service.record_household(household("c-h3", HouseholdOutcome.NO_CHILDREN)).contact
    assert after.state is ContactState.NO_ACTION_NEEDED and after.prompt_codes == ()
    assert after.assessment.household_known and after.assessment.children == ()


def test_declined_keeps_the_household_unknown_and_the_prompt_open(service: Service) -> None:
    unknown_household(service, "c-h4")
    after = service.record_household(household("c-h4", HouseholdOutcome.DECLINED)).contact
    assert after.state is ContactState.OPEN
    assert not after.assessment.household_known
    prompt = after.assessment.prompt(PromptCode.RECORD_HOUSEHOLD)
    assert prompt is not None and "next contact" in prompt.summary


def test_an_invalid_answer_is_refused_naming_each_field(service: Service) -> None:
    unknown_household(service, "c-h5")
    adult = HouseholdChild("An Adult", Relationship.CHILD, True, birth_date=date(2000, 1, 1))
    with pytest.raises(HouseholdInvalid) as refused:
        service.record_household(household("c-h5", HouseholdOutcome.CHILDREN, adult))
    assert [p.field for p in refused.value.problems] == ["children.0.birth_date"]
    assert service.household_answers("c-h5") == []


def test_the_household_cannot_change_once_a_decision_is_recorded(service: Service) -> None:
    unknown_household(service, "c-h6")
    service.record_decision(
        decision_from_dict(decision_doc(level=1) | {"share": False}, contact_id="c-h6", now=NOW)
    )
    with pytest.raises(HouseholdClosed):
        service.record_household(household("c-h6", HouseholdOutcome.NO_CHILDREN))


def test_the_next_contact_takes_the_household_recorded_but_declined_asks_again(
    service: Service,
) -> None:
    unknown_household(service, "c-h7")
    service.record_household(household("c-h7", HouseholdOutcome.CHILDREN, *TWO_CHILDREN))
    unknown_household(service, "c-h8")  # the same adult, the next day's contact
    carried = service.contact("c-h8")
    assert carried is not None and carried.assessment.household_known
    assert len(carried.assessment.children) == 2
    assert "record-household" not in carried.prompt_codes
    service.record_household(household("c-h8", HouseholdOutcome.DECLINED, answer_id="h-2"))
    unknown_household(service, "c-h9")
    asked = service.contact("c-h9")
    assert asked is not None and not asked.assessment.household_known
    assert "record-household" in asked.prompt_codes


def test_a_child_entered_with_an_estimated_age_is_referred_with_its_age_band(
    service: Service,
) -> None:
    unknown_household(service, "c-h10")
    recorded = service.record_household(
        household("c-h10", HouseholdOutcome.CHILDREN, *TWO_CHILDREN)
    )
    refs = [c.ref for c in recorded.contact.assessment.children]
    doc = decision_doc() | {"child_refs": refs}
    (referral,) = service.record_decision(
        decision_from_dict(doc, contact_id="c-h10", now=NOW)
    ).referrals
    content = service.referral_content(referral.id)
    assert content is not None
    assert [c.age_text for c in content.children] == ["age 8", "age about 1 to 4 (estimated)"]


# The phone call --------------------------------------------------------------------------------


def referred(service: Service, contact_id: str, **changes: Any) -> str:
    service.accept_contact(contact_from_dict(contact_doc(contact_id), service.config.code_lists))
    doc = decision_doc() | changes
    (referral, *_) = service.record_decision(
        decision_from_dict(doc, contact_id=contact_id, now=NOW)
    ).referrals
    return referral.id


def call(referral_id: str, *, reference: str = "", call_id: str = "call-1") -> PhoneCall:
    return PhoneCall(
        call_id,
        referral_id,
        "020 0000 0001",
        "Duty social worker, Test Borough",
        NOW - timedelta(minutes=5),
        NURSE,
        NOW,
        reference=reference,
        advice="Keep the children on the ward until the duty team calls back.",
    )


def test_a_call_with_a_reference_delivers_and_acknowledges_and_clears_the_prompt(
    service: Service,
) -> None:
    referral_id = referred(service, "c-call1")
    found = service.record_call(call(referral_id, reference="MASH-2026-0042"))
    assert found.status is ReferralStatus.ACKNOWLEDGED
    assert found.delivered_at == NOW and found.acknowledged_at == NOW and found.prompt is None
    (entry,) = service.audit_entries(kind="referral.called")
    details = json.loads(entry.details)
    assert details["reference"] == "MASH-2026-0042" and details["acknowledged"]
    assert [c.id for c in service.phone_calls(referral_id)] == ["call-1"]


def test_a_call_without_a_reference_is_delivered_but_not_acknowledged(
    service: Service,
) -> None:
    referral_id = referred(service, "c-call2")
    found = service.record_call(call(referral_id))
    assert found.status is ReferralStatus.DELIVERED and found.acknowledged_at is None
    # Not acknowledged: it still escalates when its deadline passes.
    later = found.referral.due_by + timedelta(minutes=1)
    assert [r.id for r in service.store.due_escalations(later)] == [referral_id]


def test_the_same_call_again_writes_nothing(service: Service) -> None:
    referral_id = referred(service, "c-call3")
    service.record_call(call(referral_id, reference="REF-1"))
    service.record_call(call(referral_id, reference="REF-1"))
    assert len(service.audit_entries(kind="referral.called")) == 1


def test_a_call_about_a_cancelled_referral_is_refused(service: Service) -> None:
    referral_id = referred(service, "c-call4")
    service.amend_referral(
        referral_id,
        action=ReferralAction.CANCEL,
        amendment_id="x-1",
        by="nurse-17",
        reasons="Sent in error.",
    )
    with pytest.raises(ReferralConflict):
        service.record_call(call(referral_id, reference="REF-2"))


def test_a_call_with_no_one_named_is_refused(service: Service) -> None:
    referral_id = referred(service, "c-call5")
    blank = call(referral_id)
    with pytest.raises(CallInvalid) as refused:
        service.record_call(PhoneCall("c", referral_id, "", " ", blank.called_at, NURSE, NOW))
    assert [p.field for p in refused.value.problems] == ["answered_by", "number"]


def test_a_police_referral_shows_999_and_a_script_from_the_referral(service: Service) -> None:
    referral_id = referred(
        service,
        "c-call6",
        level_of_need=4,
        immediate_danger=True,
        decided_by={
            "id": "nurse-17",
            "role": "staff nurse",
            "name": "Sam Nurse",
            "phone": "020 7000 0000",
        },
    )
    police = next(
        r for r in service.referrals(contact_id="c-call6") if r.referral.route.value == "police"
    )
    sheet = service.call_sheet(police.referral.id)
    assert sheet.needs_call and sheet.calls and sheet.calls[0].number == "999"
    steps = {line.step: line.words for line in sheet.script}
    assert steps["Who you are"].startswith("My name is Sam Nurse, staff nurse")
    assert "immediate danger" in steps["What you need"]
    assert CHILD_NAME in steps["The children"]
    assert referral_id  # the front door referral is made too


# Written back to the host ----------------------------------------------------------------------


class FlakyEhr:
    """A host whose record is down for the first write, then up."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, HouseholdOutcome]] = []

    @hookimpl
    def thinkfamily_record_household(self, answer: HouseholdAnswer, contact: FirstContact) -> None:
        self.calls.append((contact.id, answer.outcome))
        if len(self.calls) == 1:
            raise ConnectionError("record service down")


def test_a_failed_household_write_back_is_retried_for_that_plugin_alone(
    db_url: str, make_config: Any
) -> None:
    ehr = FlakyEhr()
    config = load_trust_config(make_config(2525))
    service = Service(
        config, open_store(db_url), entry_points=False, clock=FakeClock(NOW), extra=[("ehr", ehr)]
    )
    try:
        unknown_household(service, "c-wb")
        service.record_household(household("c-wb", HouseholdOutcome.CHILDREN, *TWO_CHILDREN))
        (task,) = service.claim_write_backs("w1", lease_seconds=30, limit=5)
        assert (task.hook, task.plugin, task.subject) == ("record_household", "ehr", "h-1")
        assert service.retry_write_back(task)
        assert ehr.calls == [("c-wb", HouseholdOutcome.CHILDREN)] * 2
    finally:
        service.close()
