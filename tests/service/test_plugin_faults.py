"""A plugin failing after a commit cannot undo the commit or fail the sender's request."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Assessment, Decision, FirstContact
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import IDENTIFIERS, PATIENT_NHS, FakeClock, contact_doc, decision_doc

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
    assert service.store.counters()["hooks.present.failed"] == 1
    ((task, done),) = service.store.host_tasks()
    assert (task.hook, task.plugin, task.subject, done) == (
        "record",
        "broken-host",
        recorded.decision.id,
        False,
    )


class LeakyHost:
    """A host whose failures after a commit carry the patient's details in their messages."""

    @hookimpl
    def thinkfamily_present(self, contact: FirstContact, assessment: Assessment) -> None:
        raise RuntimeError(f"worklist refused {contact.patient.name}")

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        raise ConnectionError(f"note refused for {PATIENT_NHS}")


def test_a_fault_after_commit_is_logged_and_audited_with_plugin_and_hook_only(
    tmp_path: Path, make_config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_trust_config(make_config(2525))
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        extra=[("leaky-ehr", LeakyHost())],
        clock=FakeClock(NOW),
    )
    with caplog.at_level(logging.INFO, logger="thinkfamily.service"):
        service.accept_contact(contact_from_dict(contact_doc("c-leaky"), config.code_lists))
        decision = service.record_decision(
            decision_from_dict(decision_doc(), contact_id="c-leaky", now=NOW)
        ).decision
    faults = {
        (r.plugin, r.hook, r.error)  # type: ignore[attr-defined]
        for r in caplog.records
        if hasattr(r, "plugin")
    }
    assert faults == {
        ("leaky-ehr", "thinkfamily_present", "RuntimeError"),
        ("leaky-ehr", "thinkfamily_record", "ConnectionError"),
    }
    audited = sorted(
        (e.kind, e.actor, e.subject, json.loads(e.details))
        for e in service.store.audit_entries()
        if e.kind in ("plugin.failed", "writeback.failed")
    )
    assert audited == [
        (
            "plugin.failed",
            "leaky-ehr",
            "c-leaky",
            {"plugin": "leaky-ehr", "hook": "thinkfamily_present", "error": "RuntimeError"},
        ),
        (
            "writeback.failed",
            "leaky-ehr",
            decision.id,
            {"plugin": "leaky-ehr", "hook": "thinkfamily_record", "error": "ConnectionError"},
        ),
    ]
    text = caplog.text + "".join(e.details for e in service.store.audit_entries())
    for value in IDENTIFIERS:
        assert value not in text


class FlakyRecord:
    """A host record that refuses the first two write-backs, then takes them."""

    def __init__(self) -> None:
        self.calls = 0
        self.written: list[str] = []

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        self.calls += 1
        if self.calls <= 2:
            raise ConnectionError("EHR unavailable")
        self.written.append(decision.id)


class SteadyRecord:
    def __init__(self) -> None:
        self.written: list[str] = []

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        self.written.append(decision.id)


def test_failed_write_back_is_retried_for_that_plugin_alone_until_it_succeeds(
    tmp_path: Path, make_config: Any
) -> None:
    config = load_trust_config(make_config(2525))
    clock = FakeClock(NOW)
    flaky, steady = FlakyRecord(), SteadyRecord()
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        extra=[("flaky-ehr", flaky), ("steady-ehr", steady)],
        clock=clock,
    )
    service.accept_contact(contact_from_dict(contact_doc("c-retry"), config.code_lists))
    decision = service.record_decision(
        decision_from_dict(decision_doc(), contact_id="c-retry", now=NOW)
    ).decision
    worker = OutboxWorker(service)
    for _ in range(4):
        clock.now += timedelta(minutes=10)
        worker.run_once()
    assert flaky.written == [decision.id] and flaky.calls == 3
    assert steady.written == [decision.id]  # not written twice by the retries
    ((task, done),) = service.store.host_tasks()
    assert done and task.plugin == "flaky-ehr"
    kinds = [e.kind for e in service.store.audit_entries()]
    assert kinds.count("writeback.failed") == 2 and kinds.count("writeback.done") == 1
