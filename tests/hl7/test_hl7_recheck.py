"""HL7 ADT over real MLLP meets the re-check period: an update minutes after a decision is
acknowledged and recorded, but prompts the professional again only when something changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hl7.client import MLLPClient

from adapters.hl7.client import read_ack
from adapters.hl7.listener import MllpListener
from plugin_core.contract import ServeOptions
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.store import open_store
from tests.hl7.conftest import corpus_bytes
from tests.service.conftest import FakeClock, PresentSpy

pytestmark = pytest.mark.integration

ADMITTED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
FIRST = "hl7:NORTHGEN|C23-0001"


@pytest.fixture
def spy() -> PresentSpy:
    return PresentSpy()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(ADMITTED)


@pytest.fixture
def service(
    config: TrustConfig, tmp_path: Path, spy: PresentSpy, clock: FakeClock
) -> Iterator[Service]:
    """The real service on SQLite with a host that records what it was asked to show."""
    store = open_store(f"sqlite:///{tmp_path / 'thinkfamily.db'}")
    yield Service(
        config,
        store,
        entry_points=False,
        extra=[("spy", spy)],
        clock=clock,
        serve=ServeOptions(host="127.0.0.1", mllp_port=0),
    )
    store.close()


def send(listener: MllpListener, message: bytes) -> str:
    with MLLPClient("127.0.0.1", listener.port) as client:
        reply = read_ack(client.send_message(message).strip(b"\x0b\x1c\r"))
    assert reply.code == "AA", reply.text
    return reply.acked_control_id


def update(control_id: str, extra: bytes = b"") -> bytes:
    """The basic admission resent as an A08 update with its own control id."""
    message = corpus_bytes("a01_v2_3_basic").replace(
        b"ADT^A01|C23-0001", b"ADT^A08|" + control_id.encode()
    )
    message = message.replace(b"EVN|A01|", b"EVN|A08|")
    return message.rstrip(b"\r") + b"\r" + extra if extra else message


def record_no_share(service: Service) -> str:
    doc = {
        "id": "d-hl7",
        "decided_by": {"id": "nurse-3", "role": "staff nurse"},
        "share": False,
        "level_of_need": 1,
        "reasons": "Child cared for at home by the other parent; no additional needs.",
    }
    return service.record_decision(
        decision_from_dict(doc, contact_id=FIRST, now=service.clock())
    ).decision.id


def test_a08_ten_minutes_after_a_decision_is_acknowledged_and_recorded_but_not_shown(
    listener: MllpListener, service: Service, spy: PresentSpy, clock: FakeClock
) -> None:
    send(listener, corpus_bytes("a01_v2_3_basic"))
    decision = record_no_share(service)
    clock.now = ADMITTED + timedelta(minutes=10)
    assert send(listener, update("C23-0002")) == "C23-0002"
    stored = service.store.get_contact("hl7:NORTHGEN|C23-0002")
    assert stored is not None
    assert (stored.state, stored.relies_on) == ("suppressed", decision)
    assert spy.shown == [FIRST]
    assert service.store.counters()["contacts.prompts_suppressed"] == 1


def test_a08_with_a_new_child_after_a_decision_prompts_again(
    listener: MllpListener, service: Service, spy: PresentSpy, clock: FakeClock
) -> None:
    send(listener, corpus_bytes("a01_v2_3_basic"))
    record_no_share(service)
    clock.now = ADMITTED + timedelta(minutes=10)
    newborn = (
        b"NK1|3|TESTER^KIT|CHD^Child^HL70063|1 Example Road^^London^^N7 8AA|||||||||||M|20260220\r"
    )
    send(listener, update("C23-0003", newborn))
    stored = service.store.get_contact("hl7:NORTHGEN|C23-0003")
    assert stored is not None and stored.state == "open" and stored.relies_on is None
    assert len(stored.assessment.children) == 2
    assert stored.assessment.prompts[0].detail.startswith("New since the decision of 1 March 2026")
    assert spy.shown == [FIRST, "hl7:NORTHGEN|C23-0003"]
