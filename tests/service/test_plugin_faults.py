"""A plugin failing after a commit cannot undo the commit or fail the sender's request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hooks import hookimpl
from plugin_core.contact_json import contact_from_dict
from plugin_core.decision_json import decision_from_dict
from plugin_core.model import Assessment, Decision, FirstContact
from plugin_core.service import Service
from plugin_core.store import open_store
from plugin_core.trust_config import load_trust_config

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


class BrokenHost:
    @hookimpl
    def thinkfamily_present(self, contact: FirstContact, assessment: Assessment) -> None:
        raise RuntimeError("the EHR's worklist is down")

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        raise RuntimeError("the EHR refused the note")


def test_contact_and_decision_stay_recorded_when_the_host_fails_afterwards(
    tmp_path: Path, make_config: Any
) -> None:
    config = load_trust_config(make_config(2525))
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        extra=[("broken-host", BrokenHost())],
        clock=FakeClock(NOW),
    )
    accepted = service.accept_contact(
        contact_from_dict(contact_doc("c-broken"), config.code_lists), message_key="K1"
    )
    assert not accepted.duplicate and accepted.assessment.prompts
    recorded = service.record_decision(
        decision_from_dict(decision_doc(), contact_id="c-broken", now=NOW)
    )
    assert len(recorded.referrals) == 1
    assert service.store.get_contact("c-broken") is not None
    assert [d.id for d in service.store.get_decisions("c-broken")] == [recorded.decision.id]
    counters = service.store.counters()
    assert counters["hooks.present.failed"] == 1 and counters["hooks.record.failed"] == 1
