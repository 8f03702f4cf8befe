"""A contact's decisions form one line, on both backends: a later decision names the one it
replaces, exactly one of two made at once is recorded, and replacing a decision changes what it
sent rather than sending a second referral. Delivery goes to a real SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats import serialise
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import ContactState, ReferralAction, ReferralStatus, Route
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.decide import amendment, make_referrals
from plugin_core.service import DecisionConflict, RecordedDecision, Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import decisions as store_decisions
from plugin_core.store import open_store
from plugin_core.store.referrals import insert_referral
from tests.peers.smtp import SmtpReceiver

from .conftest import FakeClock, contact_doc, decision_doc, schema_before

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
NOT_SHARING = {
    "share": False,
    "level_of_need": 2,
    "reasons": "The other parent has taken the children home and their needs are met there.",
}


@dataclass
class Ward:
    service: Service
    worker: OutboxWorker
    config_path: Path
    db_url: str

    def contact(self, contact_id: str) -> str:
        config = self.service.config
        self.service.accept_contact(contact_from_dict(contact_doc(contact_id), config.code_lists))
        return contact_id

    def decide(self, contact_id: str, **doc: Any) -> RecordedDecision:
        decision = decision_from_dict(decision_doc() | doc, contact_id=contact_id, now=NOW)
        return self.service.record_decision(decision)

    def another_instance(self) -> Service:
        return Service(
            load_trust_config(self.config_path),
            open_store(self.db_url),
            entry_points=False,
            clock=FakeClock(NOW),
        )


@pytest.fixture
def ward(db_url: str, make_config: Any, smtp: SmtpReceiver) -> Iterator[Ward]:
    path = make_config(smtp.port)
    service = Service(
        load_trust_config(path), open_store(db_url), entry_points=False, clock=FakeClock(NOW)
    )
    yield Ward(service, OutboxWorker(service), path, db_url)
    service.close()


def test_a_second_decision_that_names_none_to_supersede_is_refused_naming_the_first(
    ward: Ward,
) -> None:
    contact_id = ward.contact("c-second")
    ward.decide(contact_id, id="d-first")
    with pytest.raises(DecisionConflict) as caught:
        ward.decide(contact_id, id="d-second")
    assert caught.value.current == "d-first"
    assert '"supersedes": "d-first"' in str(caught.value)
    assert [d.id for d in ward.service.decisions(contact_id)] == ["d-first"]
    assert len(ward.service.referrals(contact_id=contact_id)) == 1


def test_a_decision_superseding_one_already_replaced_is_refused_naming_the_current(
    ward: Ward,
) -> None:
    contact_id = ward.contact("c-stale")
    ward.decide(contact_id, id="d-1")
    ward.decide(contact_id, id="d-2", supersedes="d-1")
    with pytest.raises(DecisionConflict) as caught:
        ward.decide(contact_id, id="d-3", supersedes="d-1")
    assert caught.value.current == "d-2"
    assert ward.service.current_decision(contact_id) == "d-2"


def test_a_first_decision_naming_one_to_supersede_is_refused(ward: Ward) -> None:
    contact_id = ward.contact("c-none-yet")
    with pytest.raises(DecisionConflict) as caught:
        ward.decide(contact_id, id="d-1", supersedes="d-elsewhere")
    assert caught.value.current is None
    assert ward.service.decisions(contact_id) == []


def test_two_decisions_at_once_on_one_contact_record_exactly_one(ward: Ward) -> None:
    contact_id = ward.contact("c-race")
    instances = [ward.service, ward.another_instance()]
    barrier = threading.Barrier(4)
    outcomes: dict[str, str] = {}

    def decide(service: Service, n: int) -> None:
        decision = decision_from_dict(
            decision_doc(decision_id=f"d-race-{n}"), contact_id=contact_id, now=NOW
        )
        barrier.wait()
        try:
            service.record_decision(decision)
            outcomes[decision.id] = "recorded"
        except DecisionConflict as exc:
            outcomes[decision.id] = f"refused: current {exc.current}"
        finally:
            service.close()

    threads = [threading.Thread(target=decide, args=(instances[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    (winner,) = [d for d, outcome in outcomes.items() if outcome == "recorded"]
    assert sorted(outcomes.values()).count(f"refused: current {winner}") == 3
    assert [d.id for d in ward.service.decisions(contact_id)] == [winner]
    (referral,) = ward.service.referrals(contact_id=contact_id)
    assert referral.referral.decision_id == winner


def test_superseding_withdraws_the_unsent_referrals_of_the_earlier_decision(
    ward: Ward, smtp: SmtpReceiver
) -> None:
    contact_id = ward.contact("c-unsent")
    (first,) = ward.decide(contact_id, id="d-1").referrals
    second = ward.decide(contact_id, id="d-2", supersedes="d-1", level_of_need=2)
    assert second.withdrawn == (first.id,)
    (early_help,) = second.referrals
    assert early_help.action is ReferralAction.NEW and early_help.route is Route.EARLY_HELP
    withdrawn = ward.service.referral(first.id)
    assert withdrawn is not None and withdrawn.status is ReferralStatus.CANCELLED
    ward.worker.run_once()
    (sent,) = smtp.mailbox.messages
    assert sent["To"] == "early-help@testborough.example"


def test_superseding_a_sent_referral_sends_an_update_not_a_second_referral(
    ward: Ward, smtp: SmtpReceiver
) -> None:
    contact_id = ward.contact("c-sent")
    (first,) = ward.decide(contact_id, id="d-1").referrals
    ward.worker.run_once()
    second = ward.decide(contact_id, id="d-2", supersedes="d-1", level_of_need=4)
    (update,) = second.referrals
    assert second.withdrawn == ()
    assert update.action is ReferralAction.UPDATE and update.amends == first.id
    assert update.decision_id == "d-2" and update.level_of_need == 4 and update.urgent
    ward.worker.run_once()
    subjects = [" ".join(m["Subject"].split()) for m in smtp.mailbox.messages]
    assert subjects == [
        f"Safeguarding referral {first.id}",
        f"URGENT UPDATED: safeguarding referral {first.id}",
    ]
    kinds = [e.kind for e in ward.service.store.audit_entries()]
    assert kinds.count("referral.created") == 1 and kinds.count("referral.update") == 1
    contact = ward.service.contact(contact_id)
    assert contact is not None and contact.state is ContactState.REFERRED


def test_superseding_twice_updates_the_referral_the_authority_holds(
    ward: Ward, smtp: SmtpReceiver
) -> None:
    contact_id = ward.contact("c-twice")
    (first,) = ward.decide(contact_id, id="d-1").referrals
    ward.worker.run_once()
    not_sharing = ward.decide(contact_id, id="d-2", supersedes="d-1", **NOT_SHARING)
    (revised,) = not_sharing.referrals
    assert revised.amends == first.id and revised.decision_id == "d-2"
    sharing_again = ward.decide(contact_id, id="d-3", supersedes="d-2")
    (again,) = sharing_again.referrals
    assert again.action is ReferralAction.UPDATE and again.amends == first.id
    ward.worker.run_once()
    new_referrals = [
        m for m in smtp.mailbox.messages if m["Subject"] == f"Safeguarding referral {first.id}"
    ]
    assert len(new_referrals) == 1 and len(smtp.mailbox.messages) == 3


def test_the_migration_chains_earlier_decisions_and_closes_referrals_cancelled_by_message(
    db_url: str, make_config: Any, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database as it was before decisions named what they supersede: two decisions on one
    # contact, a delivered referral already cancelled by a message, and one still delivered.
    config = load_trust_config(make_config(smtp.port))
    with schema_before(monkeypatch, "decisions_first"):
        old = open_store(db_url)
        Service(config, old, entry_points=False, clock=FakeClock(NOW)).accept_contact(
            contact_from_dict(contact_doc("c-old"), config.code_lists)
        )
        originals = []
        with old.transaction() as tx:
            for n, at in ((1, "2026-03-03T09:00:00.000000Z"), (2, "2026-03-03T09:30:00.000000Z")):
                decision = decision_from_dict(
                    decision_doc(decision_id=f"d-old-{n}"), contact_id="c-old", now=NOW
                )
                tx.execute(
                    "INSERT INTO decisions (id, contact_id, decided_at, share, decision)"
                    " VALUES (?, ?, ?, 1, ?)",
                    (decision.id, "c-old", at, serialise.dumps(decision)),
                )
                (original,) = make_referrals(
                    decision, authority_id="testborough", rules=config.rules, now=NOW
                )
                insert_referral(tx, original)
                tx.execute("UPDATE referrals SET status = 'delivered' WHERE id = ?", (original.id,))
                originals.append(original)
            cancelled = amendment(
                originals[0],
                action=ReferralAction.CANCEL,
                amendment_id="x-old",
                reasons="Sent in error.",
                rules=config.rules,
                now=NOW,
            )
            insert_referral(tx, cancelled)
    old.close()

    service = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
    assert service.current_decision("c-old") == "d-old-2"
    assert [d.supersedes for d in service.decisions("c-old")] == [None, "d-old-1"]
    statuses = {r.referral.id: r.status for r in service.referrals(contact_id="c-old")}
    assert statuses[originals[0].id] is ReferralStatus.CANCELLED
    assert statuses[originals[1].id] is ReferralStatus.DELIVERED
    again = service.amend_referral(
        originals[0].id,
        action=ReferralAction.CANCEL,
        amendment_id="x-new",
        by="nurse-17",
        reasons="Sent in error.",
    )
    assert again == cancelled
    with pytest.raises(DecisionConflict):
        service.record_decision(
            decision_from_dict(decision_doc(decision_id="d-new"), contact_id="c-old", now=NOW)
        )
    service.close()


def test_the_store_refuses_a_decision_that_does_not_supersede_the_current_one(ward: Ward) -> None:
    contact_id = ward.contact("c-store")
    first = decision_from_dict(decision_doc(decision_id="d-1"), contact_id=contact_id, now=NOW)
    second = decision_from_dict(decision_doc(decision_id="d-2"), contact_id=contact_id, now=NOW)
    assert ward.service.store.save_decision(first, [], audit=[], at=NOW).saved
    refused = ward.service.store.save_decision(second, [], audit=[], at=NOW)
    assert not refused.saved and refused.current == "d-1"
    assert ward.service.store.save_decision(first, [], audit=[], at=NOW).duplicate


def test_the_schema_keeps_one_line_of_decisions_even_when_a_check_is_missed(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id = ward.contact("c-index")
    ward.decide(contact_id, id="d-1")
    # As if another instance's decision committed between the check and the insert: the
    # first look finds none; the unique index refuses the insert; the second look names it.
    real = store_decisions.current_decision
    looks: list[str] = []

    def missed(tx: Any, decision: str, contact: str) -> tuple[bool, str | None]:
        looks.append(contact)
        return False, None

    def second_look(tx: Any, contact: str) -> str | None:
        looks.append(contact)
        return real(tx, contact)

    monkeypatch.setattr(store_decisions, "standing", missed)
    monkeypatch.setattr(store_decisions, "current_decision", second_look)
    second = decision_from_dict(decision_doc(decision_id="d-2"), contact_id=contact_id, now=NOW)
    refused = ward.service.store.save_decision(second, [], audit=[], at=NOW)
    assert not refused.saved and refused.current == "d-1" and len(looks) == 2
    assert [d.id for d in ward.service.decisions(contact_id)] == ["d-1"]
