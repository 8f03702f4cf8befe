"""A referral withdrawn before it was sent says, in its document, when it was withdrawn, by
whom and why: the reasons given for a cancellation, or the later decision that replaced the one
that made it. On SQLite and on PostgreSQL. One withdrawn in a database from before withdrawals
were kept still reads as withdrawn and points to the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.formats.referral_document import referral_text, sections, title
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.audit import AuditEntry
from plugin_core.store.referrals import withdraw_unsent
from plugin_core.store.trail import append
from tests.peers.smtp import SmtpReceiver

from .conftest import REFERRAL_NOW, FakeClock, decision_doc, schema_before
from .test_cancelled_referral_document import WHY, cancel_later, served_document
from .test_referral_document import refer_one_of_two_children

LATER_REASONS = "The other parent has come home and will care for the children."


@pytest.fixture
def service(referral_service_on_each: Service) -> Service:
    return referral_service_on_each


def test_a_referral_withdrawn_by_cancellation_shows_when_by_whom_and_why(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = refer_one_of_two_children(service)
    cancel_later(service, referral_id)  # by nurse-1, two hours on; nothing was sent yet

    content = service.referral_content(referral_id)
    assert content is not None and content.withdrawn and content.cancelled_at is None
    assert content.withdrawn_at == REFERRAL_NOW + timedelta(hours=2)
    assert (content.withdrawn_by, content.withdrawal_reasons) == ("nurse-1", WHY)
    assert content.replaced_by_decision is None
    assert title(content).startswith("WITHDRAWN, never sent")
    withdrawn = sections(content)[1]  # straight after the headline
    assert withdrawn.title == "Withdrawn"
    assert withdrawn.rows == (
        ("Withdrawn", "03/03/2026 12:00 (London time)"),
        ("By", "nurse-1"),
        ("Why", WHY),
    )
    assert "never received it" in withdrawn.text and "Do not act on it" in withdrawn.text
    assert "audit trail" not in referral_text(content)

    document = served_document(service, referral_id, monkeypatch)
    assert "03/03/2026 12:00" in document and "nurse-1" in document
    assert "never received it" in document and "Do not act on it" in document
    assert service.call_sheet(referral_id).script[0].step == "Do not call"


def test_a_referral_withdrawn_by_a_later_decision_shows_that_decision_and_its_reasons(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = refer_one_of_two_children(service)
    clock: FakeClock = service.clock  # type: ignore[assignment]
    clock.now += timedelta(minutes=90)
    later = decision_doc(level=2) | {
        "id": "d-later",
        "decided_by": {"id": "sister-4", "role": "ward sister"},
        "supersedes": service.current_decision("c-two-children"),
        "share": False,
        "reasons": LATER_REASONS,
    }
    recorded = service.record_decision(
        decision_from_dict(later, contact_id="c-two-children", now=clock.now)
    )
    assert recorded.withdrawn == (referral_id,)

    content = service.referral_content(referral_id)
    assert content is not None and content.withdrawn
    assert content.withdrawn_at == REFERRAL_NOW + timedelta(minutes=90)
    assert content.withdrawn_by == "sister-4"
    assert content.replaced_by_decision == "d-later"
    assert content.withdrawal_reasons == LATER_REASONS
    rows = dict(sections(content)[1].rows)
    assert rows["Withdrawn"] == "03/03/2026 11:30 (London time)"
    assert rows["By"] == "sister-4"
    assert rows["Why"] == f"Replaced by a later decision (d-later): {LATER_REASONS}"

    document = served_document(service, referral_id, monkeypatch)
    assert "Replaced by a later decision (d-later)" in document
    assert "sister-4" in document and "Do not act on it" in document


def test_a_referral_withdrawn_before_withdrawals_were_kept_still_reads_as_withdrawn(
    db_url: str, make_config: Any, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database as it was before: the referral withdrawn, who and why only in the audit trail.
    config = load_trust_config(make_config(smtp.port))
    with schema_before(monkeypatch, "referral_withdrawals"):
        old = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(REFERRAL_NOW))
        referral_id = refer_one_of_two_children(old)
        with old.store.transaction() as tx:
            assert withdraw_unsent(tx, referral_id, REFERRAL_NOW, None)
            entry = AuditEntry("referral.withdrawn", "nurse-1", referral_id, {"reasons": WHY})
            append(tx, [entry], REFERRAL_NOW)
        old.close()

    service = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(REFERRAL_NOW))
    try:
        content = service.referral_content(referral_id)
        assert content is not None and content.withdrawn and content.withdrawn_at is None
        assert title(content).startswith("WITHDRAWN, never sent")
        withdrawn = sections(content)[1]
        assert withdrawn.title == "Withdrawn" and withdrawn.rows == ()
        assert "never received it" in withdrawn.text
        assert "The audit trail records who withdrew it and why." in withdrawn.text
        assert service.call_sheet(referral_id).script[0].step == "Do not call"
    finally:
        service.close()
