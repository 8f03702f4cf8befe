"""An open contact answered again by a later call in the same encounter keeps the assessment it
was first shown with; the stored text is decoded once and shared, which is safe only because
an assessment cannot be changed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin_core.contract import Accepted, AuditNote
from plugin_core.formats import serialise
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.kept import loads_kept
from plugin_core.model import Assessment
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import FakeClock, PresentSpy, contact_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def service(db_url: str, make_config: Any, clock: FakeClock) -> Iterator[Service]:
    made = Service(
        load_trust_config(make_config(2525)),
        open_store(db_url),
        entry_points=False,
        extra=[("spy", PresentSpy())],
        clock=clock,
    )
    yield made
    made.store.shutdown()


def _note(accepted: Accepted) -> AuditNote | None:
    codes = [p.code.value for p in accepted.prompts_to_show]
    return AuditNote("cds.cards", "ehr|sub", {"prompts": codes}) if codes else None


def _call(service: Service, contact_id: str, hook: str) -> Accepted:
    found = service.accept_hook_call(
        contact_from_dict(contact_doc(contact_id), service.config.code_lists),
        once_key=f"jti:{hook}",
        once_until=NOW + timedelta(hours=1),
        message_key=f"cds:{hook}",
        encounter_key="e-1",
        audit=_note,
    )
    assert found is not None
    return found


def test_an_open_contact_answered_again_keeps_the_assessment_it_was_first_shown_with(
    service: Service, clock: FakeClock
) -> None:
    first = _call(service, "c-reuse-1", "h-reuse-1")
    assert first.assessment.prompts and not first.duplicate
    for minutes, hook in ((5, "h-reuse-2"), (10, "h-reuse-3")):
        clock.now = NOW + timedelta(minutes=minutes)
        again = _call(service, f"c-{hook}", hook)
        assert again.reused and again.contact_id == "c-reuse-1"
        assert again.assessment == first.assessment
        assert again.assessment.assessed_at == NOW
    assert service.store.get_contact("c-h-reuse-2") is None
    assert service.store.counters().get("contacts.reused") == 2


def test_a_stored_assessment_reads_back_equal_and_is_decoded_once_per_text(
    service: Service,
) -> None:
    written = _call(service, "c-reuse-4", "h-reuse-4").assessment
    text = serialise.dumps(written)  # not kept when written: the first read decodes it
    read = loads_kept(Assessment, text)
    assert read == written
    assert loads_kept(Assessment, text) is read
    later = dataclasses.replace(written, assessed_at=NOW + timedelta(days=1))
    other = loads_kept(Assessment, serialise.dumps(later))
    assert other == later and other != read


def test_a_shared_assessment_cannot_be_changed_in_place(service: Service) -> None:
    assessment = _call(service, "c-reuse-5", "h-reuse-5").assessment
    read = loads_kept(Assessment, serialise.dumps(assessment))
    assert isinstance(read.prompts, tuple) and isinstance(read.children, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.prompts = ()  # type: ignore[misc]
