"""A referral read after its decision was revised reads as it now stands: its document (and the
phone call's script) carry the decision that replaced the first, and say when and why the
referral was amended; the update's own document is still the update."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning  # type: ignore[attr-defined]

from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.formats.referral_document import sections, title
from plugin_core.http import build_app
from plugin_core.model import ReferralAction
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service

from .conftest import FakeClock, decision_doc
from .test_referral_document import REFERRER, pdf_text, refer_one_of_two_children

TOKEN = "amended-document-token-0123456789abcdef"
FIRST_REASONS = "Parent admitted in crisis; child at home with no other carer."
REVISED = "The child was found alone at home overnight; the other parent cannot be reached."


@pytest.fixture
def service(referral_service: Service) -> Service:
    return referral_service


def revise(service: Service, referral_id: str, **doc: Any) -> str:
    """Supersede the decision behind ``referral_id`` an hour later; the update's id."""
    first = service.referral(referral_id)
    assert first is not None
    clock: FakeClock = service.clock  # type: ignore[assignment]
    clock.now += timedelta(hours=1)
    body = decision_doc(level=4) | {
        "id": "d-revised",
        "supersedes": first.referral.decision_id,
        "decided_by": REFERRER,
        "reasons": REVISED,
        "child_refs": list(first.referral.child_refs),
    }
    recorded = service.record_decision(
        decision_from_dict(body | doc, contact_id=first.referral.contact_id, now=clock.now)
    )
    (update,) = recorded.referrals
    assert update.action is ReferralAction.UPDATE and update.amends == referral_id
    return update.id


def test_a_referral_whose_decision_was_superseded_shows_the_current_decision_and_when(
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    referral_id = refer_one_of_two_children(service)
    assert OutboxWorker(service).run_once() == 1  # the authority holds the first referral
    update_id = revise(service, referral_id)

    content = service.referral_content(referral_id)
    assert content is not None
    assert content.referral_id == referral_id and content.concern == REVISED
    assert content.level_of_need == 4 and content.urgent
    assert content.amended_at is not None and content.amendment_reasons == REVISED
    assert title(content) == "URGENT safeguarding referral (amended)"
    (amended,) = [s for s in sections(content) if s.title == "Amended"]
    assert ("Amended", "03/03/2026 11:00 (London time)") in amended.rows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient
    monkeypatch.setenv(service.config.api_token_env, TOKEN)
    served = TestClient(build_app(service)).get(
        f"/api/referrals/{referral_id}/document", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert served.status_code == 200
    document = pdf_text(served.content)
    assert REVISED in document and FIRST_REASONS not in document
    assert "amended" in document and "03/03/2026 11:00" in document

    update = service.referral_content(update_id)
    assert update is not None and update.amends == referral_id and update.amended_at is None


def test_a_referral_never_revised_reads_as_first_made(service: Service) -> None:
    referral_id = refer_one_of_two_children(service)
    content = service.referral_content(referral_id)
    assert content is not None and content.amended_at is None
    assert content.concern == FIRST_REASONS and content.level_of_need == 3
    assert "Amended" not in [s.title for s in sections(content)]


def test_the_call_script_for_a_revised_referral_speaks_the_current_decision(
    service: Service,
) -> None:
    referral_id = refer_one_of_two_children(service)
    assert OutboxWorker(service).run_once() == 1
    revise(service, referral_id)
    words = " ".join(step.words for step in service.call_sheet(referral_id).script)
    assert REVISED in words and FIRST_REASONS not in words
