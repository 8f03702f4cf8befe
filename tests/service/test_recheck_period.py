"""The re-check period on both backends: after a decision for an adult, the same adult is not
prompted again for ``recheck_days`` unless something changed, on every path that makes contacts."""

from __future__ import annotations

import copy
import json
import threading
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core.contract import Accepted
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.http import build_app
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import IDENTIFIERS, FakeClock, PresentSpy, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
Doc = dict[str, Any]


@pytest.fixture
def spy() -> PresentSpy:
    return PresentSpy()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def make_service(
    db_url: str, make_config: Any, spy: PresentSpy, clock: FakeClock
) -> Iterator[Callable[[], Service]]:
    """Services on one database, as the same instance restarted."""
    path = make_config(2525)
    made: list[Service] = []

    def make() -> Service:
        service = Service(
            load_trust_config(path),
            open_store(db_url),
            entry_points=False,
            extra=[("spy", spy)],
            clock=clock,
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.store.close()


@pytest.fixture
def service(make_service: Callable[[], Service]) -> Service:
    return make_service()


def accept(
    service: Service, doc: Doc, *, key: str | None = None, encounter: str | None = None
) -> Accepted:
    contact = contact_from_dict(doc, service.config.code_lists)
    return service.accept_contact(contact, message_key=key, encounter_key=encounter)


def decide(service: Service, contact_id: str) -> str:
    decision = decision_from_dict(decision_doc(), contact_id=contact_id, now=service.clock())
    return service.record_decision(decision).decision.id


def audit_of(service: Service, kind: str, subject: str) -> list[dict[str, Any]]:
    return [
        json.loads(e.details)
        for e in service.store.audit_entries()
        if e.kind == kind and e.subject == subject
    ]


# Suppressed within the period ----------------------------------------------------------------


def test_contact_ten_minutes_after_a_decision_is_recorded_but_its_prompts_are_not_shown(
    service: Service, spy: PresentSpy, clock: FakeClock
) -> None:
    accept(service, contact_doc("c-first"))
    decision = decide(service, "c-first")
    clock.now = NOW + timedelta(minutes=10)
    again = accept(service, contact_doc("c-again"))
    assert again.suppressed_by == decision and again.prompts_to_show == ()
    assert [p.code.value for p in again.assessment.prompts] == ["consider-children"]
    stored = service.store.get_contact("c-again")
    assert stored is not None
    assert (stored.state, stored.relies_on) == ("suppressed", decision)
    assert stored.prompt_codes == ("consider-children",)  # kept for the audit, not shown
    assert spy.shown == ["c-first"]
    assert service.store.counters()["contacts.prompts_suppressed"] == 1
    (entry,) = audit_of(service, "contact.prompts_suppressed", "c-again")
    assert entry == {"decision": decision, "prompts": ["consider-children"]}
    (accepted,) = audit_of(service, "contact.accepted", "c-again")
    assert accepted["recheck"] == {"decision": decision, "shown": False, "changed": []}
    text = json.dumps([e.details for e in service.store.audit_entries()])
    assert not any(value in text for value in IDENTIFIERS)


def test_each_suppressed_contact_counts_once(service: Service, clock: FakeClock) -> None:
    accept(service, contact_doc("c-count"))
    decide(service, "c-count")
    for n in range(3):
        clock.now = NOW + timedelta(hours=n + 1)
        assert accept(service, contact_doc(f"c-count-{n}")).suppressed_by is not None
    assert service.store.counters()["contacts.prompts_suppressed"] == 3
    suppressed = service.store.list_contacts(state="suppressed")
    assert sorted(c.id for c in suppressed) == ["c-count-0", "c-count-1", "c-count-2"]


def test_period_runs_for_recheck_days_from_the_decision_and_then_prompts_again(
    service: Service, spy: PresentSpy, clock: FakeClock
) -> None:
    days = service.config.recheck_days
    accept(service, contact_doc("c-period"))
    decision = decide(service, "c-period")
    clock.now = NOW + timedelta(days=days) - timedelta(minutes=1)
    assert accept(service, contact_doc("c-last-minute")).suppressed_by == decision
    clock.now = NOW + timedelta(days=days)
    after = accept(service, contact_doc("c-after"))
    assert after.suppressed_by is None and after.changes == ()
    assert [p.code.value for p in after.prompts_to_show] == ["consider-children"]
    stored = service.store.get_contact("c-after")
    assert stored is not None and (stored.state, stored.relies_on) == ("open", None)
    assert spy.shown == ["c-period", "c-after"]
    (entry,) = audit_of(service, "contact.accepted", "c-after")
    assert "recheck" not in entry


def test_suppression_survives_a_restart(
    make_service: Callable[[], Service], spy: PresentSpy, clock: FakeClock
) -> None:
    first = make_service()
    accept(first, contact_doc("c-before-restart"))
    decision = decide(first, "c-before-restart")
    first.store.close()
    clock.now = NOW + timedelta(minutes=30)
    restarted = make_service()
    again = accept(restarted, contact_doc("c-after-restart"))
    assert again.suppressed_by == decision
    assert spy.shown == ["c-before-restart"]
    assert restarted.store.counters()["contacts.prompts_suppressed"] == 1


def test_a_resent_message_of_a_suppressed_contact_is_still_not_shown(
    service: Service, clock: FakeClock
) -> None:
    accept(service, contact_doc("c-sent"))
    decision = decide(service, "c-sent")
    clock.now = NOW + timedelta(minutes=5)
    first = accept(service, contact_doc("c-update"), key="PAS|A08-1")
    resent = accept(service, contact_doc("c-update"), key="PAS|A08-1")
    assert first.suppressed_by == resent.suppressed_by == decision
    assert resent.duplicate and resent.prompts_to_show == ()
    assert service.store.counters()["contacts.prompts_suppressed"] == 1


def test_a_decision_for_one_adult_does_not_quiet_prompts_for_another(
    service: Service, clock: FakeClock
) -> None:
    accept(service, contact_doc("c-adult-1"))
    decide(service, "c-adult-1")
    clock.now = NOW + timedelta(minutes=10)
    other = contact_doc("c-adult-2")
    other["patient"]["id"] = "p-2"
    assert accept(service, other).prompts_to_show


def test_the_latest_decision_for_the_adult_is_the_one_relied_on(
    service: Service, clock: FakeClock
) -> None:
    accept(service, contact_doc("c-one"))
    decide(service, "c-one")
    clock.now = NOW + timedelta(days=60)
    accept(service, contact_doc("c-two"))
    later = decide(service, "c-two")  # recorded on the suppressed contact
    clock.now = NOW + timedelta(days=120)  # past the first decision's period, within the second
    assert accept(service, contact_doc("c-three")).suppressed_by == later


# Something changed: prompts again, saying what -----------------------------------------------


def _second_child(doc: Doc) -> None:
    doc["household"].append(
        {
            "id": "k-2",
            "birth_date": "2021-04-02",
            "relationship": "child",
            "lives_with_patient": True,
        }
    )


def _child_of_unknown_age(doc: Doc) -> None:
    doc["household"].append({"id": "k-3", "relationship": "stepchild"})


def _another_child_under_the_same_reference(doc: Doc) -> None:
    doc["household"][0]["birth_date"] = "2024-01-05"  # 2 years old where an 8-year-old was


def _domestic_abuse(doc: Doc) -> None:
    doc["indicators"].append({"kind": "domestic_abuse"})


def _another_mental_health_code(doc: Doc) -> None:
    doc["indicators"].append(
        {"kind": "mental_health", "system": "http://hl7.org/fhir/sid/icd-10", "code": "F20.0"}
    )


def _pregnant(doc: Doc) -> None:
    doc["pregnant"] = True


def _pregnancy_in_the_record(doc: Doc) -> None:
    doc["indicators"].append({"kind": "pregnancy"})


def _child_protection_flag(doc: Doc) -> None:
    doc["indicators"].append({"kind": "child_protection"})


def _coded_child_protection_flag(doc: Doc) -> None:
    doc["indicators"].append({"kind": "child_protection", "system": "local", "code": "CP-IS"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(_second_child, "new-child", id="second-child"),
        pytest.param(_child_of_unknown_age, "new-child", id="child-of-unknown-age"),
        pytest.param(_another_child_under_the_same_reference, "new-child", id="same-ref-other-age"),
        pytest.param(_domestic_abuse, "new-indicator", id="new-kind-of-indicator"),
        pytest.param(_another_mental_health_code, "new-indicator", id="new-code-same-kind"),
        pytest.param(_pregnant, "pregnancy", id="pregnant"),
        pytest.param(_pregnancy_in_the_record, "pregnancy", id="pregnancy-indicator"),
        pytest.param(_child_protection_flag, "child-protection-flag", id="cp-flag"),
        pytest.param(_coded_child_protection_flag, "child-protection-flag", id="coded-cp-flag"),
    ],
)
def test_something_new_since_the_decision_prompts_again_and_says_what(
    service: Service,
    spy: PresentSpy,
    clock: FakeClock,
    change: Callable[[Doc], None],
    expected: str,
) -> None:
    accept(service, contact_doc("c-base"))
    decision = decide(service, "c-base")
    clock.now = NOW + timedelta(minutes=10)
    doc = contact_doc("c-changed")
    change(doc)
    changed = accept(service, doc)
    assert changed.suppressed_by is None and changed.changes == (expected,)
    assert changed.prompts_to_show
    for prompt in changed.prompts_to_show:
        assert prompt.detail.startswith("New since the decision of 3 March 2026: ")
    stored = service.store.get_contact("c-changed")
    assert stored is not None and stored.state == "open"
    assert stored.assessment.prompts == changed.assessment.prompts
    assert spy.shown == ["c-base", "c-changed"]
    (entry,) = audit_of(service, "contact.accepted", "c-changed")
    assert entry["recheck"] == {"decision": decision, "shown": True, "changed": [expected]}
    counters = service.store.counters()
    assert counters["contacts.reprompted_on_change"] == 1
    assert "contacts.prompts_suppressed" not in counters


def test_a_second_child_protection_flag_with_another_code_prompts_again(
    service: Service, clock: FakeClock
) -> None:
    doc = contact_doc("c-cp-1")
    doc["indicators"].append({"kind": "child_protection", "system": "local", "code": "CPP"})
    accept(service, doc)
    decide(service, "c-cp-1")
    clock.now = NOW + timedelta(hours=2)
    unchanged = copy.deepcopy(doc) | {"id": "c-cp-same"}
    assert accept(service, unchanged).suppressed_by is not None
    doc["id"] = "c-cp-2"
    doc["indicators"].append({"kind": "child_protection", "system": "local", "code": "CP-IS"})
    assert accept(service, doc).changes == ("child-protection-flag",)


def test_several_changes_are_all_named(service: Service, clock: FakeClock) -> None:
    accept(service, contact_doc("c-several"))
    decide(service, "c-several")
    clock.now = NOW + timedelta(days=1)
    doc = contact_doc("c-several-changed")
    _second_child(doc)
    _pregnant(doc)
    _child_protection_flag(doc)
    changed = accept(service, doc)
    assert changed.changes == ("new-child", "pregnancy", "child-protection-flag")
    detail = changed.prompts_to_show[0].detail
    assert detail.startswith(
        "New since the decision of 3 March 2026: a child not recorded then, a pregnancy,"
        " a new child protection flag."
    )


# Nothing new: still suppressed ---------------------------------------------------------------


def _child_left(doc: Doc) -> None:
    doc["household"].append(
        {
            "id": "k-9",
            "birth_date": "2012-05-05",
            "relationship": "child",
            "lives_with_patient": True,
        }
    )


def _indicator_gone(doc: Doc) -> None:
    doc["indicators"] = []


def _household_not_sent(doc: Doc) -> None:
    doc["household"] = None


def _same_code_written_differently(doc: Doc) -> None:
    doc["indicators"] = [{"kind": "mental_health", "system": " ICD10 ", "code": "f32.1 "}]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(_child_left, lambda doc: None, id="a-child-left"),
        pytest.param(lambda doc: None, _indicator_gone, id="an-indicator-gone"),
        pytest.param(lambda doc: None, _household_not_sent, id="household-not-sent"),
        pytest.param(
            lambda doc: doc.update(
                indicators=[{"kind": "mental_health", "system": "icd10", "code": "F32.1"}]
            ),
            _same_code_written_differently,
            id="same-code-other-spelling",
        ),
    ],
)
def test_something_gone_or_the_same_does_not_prompt_again(
    service: Service,
    clock: FakeClock,
    before: Callable[[Doc], None],
    after: Callable[[Doc], None],
) -> None:
    first = contact_doc("c-then")
    before(first)
    if accept(service, first).assessment.prompts:
        decide(service, "c-then")
    clock.now = NOW + timedelta(hours=3)
    later = contact_doc("c-now")
    after(later)
    result = accept(service, later)
    assert result.assessment.prompts and result.suppressed_by is not None


def test_a_birthday_since_the_decision_is_not_a_new_child(
    service: Service, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 9, 25, 10, 0, tzinfo=UTC)
    accept(service, contact_doc("c-aged-8", occurred_at="2026-09-25T10:00:00+00:00"))
    decide(service, "c-aged-8")
    clock.now = datetime(2026, 10, 2, 10, 0, tzinfo=UTC)
    later = accept(service, contact_doc("c-aged-9", occurred_at="2026-10-02T10:00:00+00:00"))
    assert [c.age for c in later.assessment.children] == [9]
    assert later.suppressed_by is not None


# One encounter, one contact ------------------------------------------------------------------


def test_repeated_call_in_one_encounter_reuses_the_open_contact(
    service: Service, spy: PresentSpy, clock: FakeClock
) -> None:
    first = accept(service, contact_doc("c-enc-1"), encounter="encounter:e-1")
    clock.now = NOW + timedelta(minutes=3)
    again = accept(service, contact_doc("c-enc-2"), encounter="encounter:e-1")
    assert again.reused and again.contact_id == "c-enc-1"
    assert again.assessment == first.assessment
    assert [c.id for c in service.store.list_contacts()] == ["c-enc-1"]
    assert spy.shown == ["c-enc-1"]
    assert service.store.counters()["contacts.reused"] == 1
    other = accept(service, contact_doc("c-enc-other"), encounter="encounter:e-2")
    assert not other.reused and other.contact_id == "c-enc-other"


def test_a_call_in_the_same_encounter_with_something_new_makes_its_own_contact(
    service: Service,
) -> None:
    accept(service, contact_doc("c-enc-a"), encounter="encounter:e-1")
    doc = contact_doc("c-enc-b")
    _second_child(doc)
    changed = accept(service, doc, encounter="encounter:e-1")
    assert not changed.reused and changed.contact_id == "c-enc-b"
    assert sorted(c.id for c in service.store.list_contacts(state="open")) == [
        "c-enc-a",
        "c-enc-b",
    ]


def test_after_a_decision_the_same_encounter_is_not_prompted_again(
    service: Service, clock: FakeClock
) -> None:
    accept(service, contact_doc("c-enc-x"), encounter="encounter:e-1")
    decision = decide(service, "c-enc-x")
    clock.now = NOW + timedelta(minutes=20)
    again = accept(service, contact_doc("c-enc-y"), encounter="encounter:e-1")
    assert not again.reused and again.suppressed_by == decision
    assert again.prompts_to_show == ()


# The JSON API --------------------------------------------------------------------------------


def test_api_answers_a_suppressed_contact_with_no_prompts_and_the_decision_it_relied_on(
    service: Service, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with warnings.catch_warnings():
        # Starlette would rather its test client ran on a successor of httpx; httpx works.
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    monkeypatch.setenv(service.config.api_token_env, "api-test-token-0123456789abcdefghij")
    client = TestClient(build_app(service))
    headers = {"Authorization": "Bearer api-test-token-0123456789abcdefghij"}
    first = client.post("/api/contacts", json=contact_doc("c-api-1"), headers=headers)
    assert first.status_code == 201 and first.json()["prompts_suppressed"] is None
    decision = decide(service, "c-api-1")
    clock.now = NOW + timedelta(minutes=10)
    again = client.post("/api/contacts", json=contact_doc("c-api-2"), headers=headers)
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["prompts"] == []
    assert body["prompts_suppressed"] == {"decision_id": decision, "prompts": ["consider-children"]}
    stored = client.get("/api/contacts/c-api-2", headers=headers).json()
    assert stored["state"] == "suppressed" and stored["relies_on"] == decision
    assert [p["code"] for p in stored["assessment"]["prompts"]] == ["consider-children"]
    doc = contact_doc("c-api-3")
    _pregnant(doc)
    changed = client.post("/api/contacts", json=doc, headers=headers).json()
    assert changed["changed_since_decision"] == ["pregnancy"] and changed["prompts"]
    health = client.get("/healthz").json()
    assert health["counters"]["contacts.prompts_suppressed"] == 1


def test_two_instances_answering_one_encounter_at_once_make_one_contact(
    make_service: Callable[[], Service],
) -> None:
    instances = [make_service(), make_service()]
    barrier = threading.Barrier(len(instances) * 3)
    results: list[Accepted] = []

    def open_chart(service: Service, n: int) -> None:
        barrier.wait()
        results.append(accept(service, contact_doc(f"c-race-{n}"), encounter="encounter:e-9"))
        service.store.close()

    threads = [threading.Thread(target=open_chart, args=(instances[n % 2], n)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 6
    (contact,) = instances[0].store.list_contacts()
    assert {r.contact_id for r in results} == {contact.id}
    assert sum(not r.reused for r in results) == 1
