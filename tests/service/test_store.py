"""The store on both backends: durable contacts, decisions with referrals, claims, one delivery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from plugin_core.contract import ReceivedMessage
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Channel, Receipt, ReferralStatus
from plugin_core.service import DuplicateDecision, Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.audit import AuditEntry

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def service(db_url: str, make_config) -> Service:  # type: ignore[no-untyped-def]
    config = load_trust_config(make_config(2525))
    return Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))


def _contact(service: Service, contact_id: str | None = None):  # type: ignore[no-untyped-def]
    return contact_from_dict(contact_doc(contact_id), service.config.code_lists)


def test_resent_message_key_returns_stored_assessment_without_second_contact(
    service: Service,
) -> None:
    first = service.accept_contact(_contact(service, "c-a"), message_key="FAC|MSG1")
    again = service.accept_contact(_contact(service, "c-b"), message_key="FAC|MSG1")
    assert not first.duplicate and again.duplicate
    assert again.assessment == first.assessment
    assert [c.id for c in service.store.list_contacts()] == ["c-a"]


def test_contact_survives_reopening_the_database(service: Service, db_url: str) -> None:
    service.accept_contact(_contact(service, "c-durable"))
    service.store.close()
    reopened = open_store(db_url)
    stored = reopened.get_contact("c-durable")
    assert stored is not None and stored.contact.patient.id == "p-1"
    assert stored.prompt_codes == ("consider-children",)
    assert stored.assessment.children[0].age == 8


def test_decision_and_referral_commit_together_or_not_at_all(service: Service) -> None:
    service.accept_contact(_contact(service, "c-tx"))
    decision = decision_from_dict(decision_doc(decision_id="d-tx"), contact_id="c-tx", now=NOW)
    recorded = service.record_decision(decision)
    assert len(recorded.referrals) == 1
    # The same decision id again: nothing new is written, not even a second referral.
    with pytest.raises(DuplicateDecision):
        service.record_decision(decision)
    assert len(service.store.list_referrals(contact_id="c-tx")) == 1
    # A referral that cannot be written (its key already used) rolls back its decision too.
    other = decision_from_dict(
        decision_doc(decision_id="d-tx2") | {"supersedes": "d-tx"}, contact_id="c-tx", now=NOW
    )
    clash = recorded.referrals[0]
    with pytest.raises(Exception):  # noqa: B017 - either backend's integrity error
        service.store.save_decision(other, [clash], audit=[], at=NOW)
    assert [d.id for d in service.store.get_decisions("c-tx")] == ["d-tx"]


def test_two_workers_claiming_at_once_never_share_a_referral(service: Service) -> None:
    for n in range(12):
        service.accept_contact(_contact(service, f"c-claim-{n}"))
        service.record_decision(
            decision_from_dict(decision_doc(), contact_id=f"c-claim-{n}", now=NOW)
        )
    claims: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def claim(worker: str) -> None:
        barrier.wait()
        got: list[str] = []
        for _ in range(6):
            got += [
                c.referral.id
                for c in service.store.claim_referrals(worker, NOW, lease_seconds=60, limit=2)
            ]
        claims[worker] = got
        service.store.close()

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = [rid for got in claims.values() for rid in got]
    assert len(everything) == 12
    assert len(set(everything)) == 12


def test_expired_claim_is_taken_over_and_only_one_delivery_is_recorded(service: Service) -> None:
    service.accept_contact(_contact(service, "c-lease"))
    (referral,) = service.record_decision(
        decision_from_dict(decision_doc(), contact_id="c-lease", now=NOW)
    ).referrals
    assert [
        c.referral.id for c in service.store.claim_referrals("slow", NOW, lease_seconds=5, limit=5)
    ] == [referral.id]
    assert service.store.claim_referrals("fast", NOW, lease_seconds=5, limit=5) == []
    later = NOW + timedelta(seconds=6)
    assert [
        c.referral.id
        for c in service.store.claim_referrals("fast", later, lease_seconds=5, limit=5)
    ] == [referral.id]
    receipt = Receipt(Channel.EMAIL, delivered=True)
    kwargs = dict(
        status=ReferralStatus.DELIVERED,
        receipt=receipt,
        prompt=None,
        next_attempt_at=None,
        audit=[],
        at=later,
    )
    assert service.store.finish_attempt(referral, "fast", **kwargs) is True
    assert service.store.finish_attempt(referral, "slow", **kwargs) is False
    assert service.store.delivery_attempts(referral.id) == [(1, "fast", "delivered")]


def test_audit_trail_records_who_what_why_for_a_decision_not_to_share(service: Service) -> None:
    service.accept_contact(_contact(service, "c-noshare"))
    doc = {
        "id": "d-no",
        "decided_by": {"id": "dr-4", "role": "registrar"},
        "share": False,
        "level_of_need": 2,
        "reasons": "Children cared for by the other parent; needs already met.",
    }
    service.record_decision(decision_from_dict(doc, contact_id="c-noshare", now=NOW))
    entries = [e for e in service.store.audit_entries() if e.kind == "decision.recorded"]
    assert len(entries) == 1
    assert entries[0].actor == "dr-4" and entries[0].subject == "d-no"
    assert '"share":false' in entries[0].details and "needs already met" in entries[0].details
    assert service.store.verify_audit() == (len(service.store.audit_entries()), None)


def test_counters_add_up_across_calls(service: Service) -> None:
    service.count("hl7.skipped")
    service.count("hl7.skipped", 2)
    assert service.store.counters()["hl7.skipped"] == 3


def test_audit_append_from_an_adapter_is_chained(service: Service) -> None:
    service.append_audit(
        "cds.feedback", "ehr-1", "card-1", {"outcome": "overridden", "reason": "already referred"}
    )
    service.store.append_audit([AuditEntry("x", "y", "z", {})], NOW)
    count, broken = service.store.verify_audit()
    assert count == 2 and broken is None


def test_group_commit_answers_each_contact_in_order_and_spots_repeats_within_the_batch(
    service: Service,
) -> None:
    service.accept_contact(_contact(service, "c-g0"), message_key="FAC|G0")
    results = service.accept_contacts(
        [
            (_contact(service, "c-g1"), "FAC|G1"),
            (_contact(service, "c-g0-again"), "FAC|G0"),  # resent before
            (_contact(service, "c-g2"), "FAC|G2"),
            (_contact(service, "c-g2-again"), "FAC|G2"),  # resent within the batch
        ]
    )
    assert [getattr(r, "duplicate", None) for r in results] == [False, True, False, True]
    assert sorted(c.id for c in service.store.list_contacts()) == ["c-g0", "c-g1", "c-g2"]
    assert service.store.counters()["contacts.duplicate"] == 2


def test_a_key_is_used_once_until_it_expires_on_either_backend(service: Service) -> None:
    until = NOW + timedelta(minutes=5)
    assert service.store.use_once("jti:ehr|abc", until=until, now=NOW) is True
    assert (
        service.store.use_once("jti:ehr|abc", until=until, now=NOW + timedelta(minutes=1)) is False
    )
    assert (
        service.store.use_once(
            "jti:ehr|abc", until=until + timedelta(minutes=10), now=until + timedelta(seconds=1)
        )
        is True
    )


def test_key_reused_for_a_different_message_is_refused_and_kept_once_per_message(
    service: Service,
) -> None:
    original = ReceivedMessage("digest-original", "MSH|original")
    different = ReceivedMessage("digest-different", "MSH|different")
    first = service.accept_contact(_contact(service, "c-key"), message_key="F|K1", message=original)
    resent = service.accept_contact(
        _contact(service, "c-key"), message_key="F|K1", message=original
    )
    refused = [
        service.accept_contact(_contact(service, "c-key"), message_key="F|K1", message=different)
        for _ in range(2)
    ]
    assert not first.duplicate and not first.conflict
    assert resent.duplicate and not resent.conflict
    assert all(r.conflict for r in refused)
    [kept] = service.store.conflicting_resends()
    assert (kept.message_key, kept.contact_id, kept.times) == ("F|K1", "c-key", 2)
    assert (kept.digest, kept.message) == ("digest-different", "MSH|different")
    assert kept.first_received_at == kept.last_received_at == NOW
    assert [c.id for c in service.store.list_contacts()] == ["c-key"]


def test_contact_stored_without_a_digest_takes_a_resend_as_the_same_message(
    service: Service,
) -> None:
    service.accept_contact(_contact(service, "c-old"), message_key="F|OLD")
    again = service.accept_contact(
        _contact(service, "c-old"), message_key="F|OLD", message=ReceivedMessage("d", "MSH|x")
    )
    assert again.duplicate and not again.conflict
    assert service.store.conflicting_resends() == []
