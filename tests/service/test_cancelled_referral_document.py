"""A referral that was called off reads as called off: its document says first that it was
cancelled (when, why, under what reference) or withdrawn before it was sent, and its phone
script starts by saying not to call. One still standing says neither."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from starlette.exceptions import StarletteDeprecationWarning  # type: ignore[attr-defined]

from plugin_core.formats.referral_document import sections, title
from plugin_core.http import build_app
from plugin_core.model import ReferralAction
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service

from .conftest import FakeClock
from .test_referral_document import pdf_text, refer_one_of_two_children

TOKEN = "cancelled-document-token-0123456789abcdef"
WHY = "The child is staying with grandparents; the family is known to the team already."


@pytest.fixture
def service(referral_service: Service) -> Service:
    return referral_service


def cancel_later(service: Service, referral_id: str) -> None:
    clock: FakeClock = service.clock  # type: ignore[assignment]
    clock.now += timedelta(hours=2)
    service.amend_referral(
        referral_id,
        action=ReferralAction.CANCEL,
        amendment_id="cancel-1",
        by="nurse-1",
        reasons=WHY,
    )


def served_document(service: Service, referral_id: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient
    monkeypatch.setenv(service.config.api_token_env, TOKEN)
    served = TestClient(build_app(service)).get(
        f"/api/referrals/{referral_id}/document", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert served.status_code == 200
    return pdf_text(served.content)


def test_a_sent_referral_later_cancelled_says_so_first_with_when_and_why(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = refer_one_of_two_children(service)
    assert OutboxWorker(service).run_once() == 1  # the authority holds it
    cancel_later(service, referral_id)

    content = service.referral_content(referral_id)
    assert content is not None and content.called_off and not content.withdrawn
    assert content.cancellation_reasons == WHY
    assert title(content) == "CANCELLED: safeguarding referral"
    found = sections(content)
    assert found[1].title == "Cancelled"  # straight after the headline
    assert ("Cancelled", "03/03/2026 12:00 (London time)") in found[1].rows
    assert ("Why", WHY) in found[1].rows
    assert content.cancellation_reference.startswith("tf-")

    document = served_document(service, referral_id, monkeypatch)
    assert "CANCELLED" in document and "03/03/2026 12:00" in document
    assert "Do not act on it" in document

    script = service.call_sheet(referral_id).script
    assert script[0].step == "Do not call"
    assert "cancelled on 03/03/2026 12:00" in script[0].words


def test_a_referral_withdrawn_before_it_was_sent_says_the_authority_never_had_it(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = refer_one_of_two_children(service)
    cancel_later(service, referral_id)  # nothing was sent yet: withdrawn

    content = service.referral_content(referral_id)
    assert content is not None and content.withdrawn and content.cancelled_at is None
    assert title(content).startswith("WITHDRAWN, never sent")
    assert sections(content)[1].title == "Withdrawn"
    assert "never received it" in served_document(service, referral_id, monkeypatch)
    assert service.call_sheet(referral_id).script[0].step == "Do not call"


def test_a_referral_still_standing_is_neither_cancelled_nor_withdrawn(service: Service) -> None:
    referral_id = refer_one_of_two_children(service)
    assert OutboxWorker(service).run_once() == 1
    content = service.referral_content(referral_id)
    assert content is not None and not content.called_off
    assert not title(content).startswith(("CANCELLED", "WITHDRAWN"))
    assert {"Cancelled", "Withdrawn"}.isdisjoint(s.title for s in sections(content))
    assert service.call_sheet(referral_id).script[0].step == "Who you are"
