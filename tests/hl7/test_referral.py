"""REF^I12 referrals delivered by the outbox to a separate MLLP receiver, and its ACK recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hl7apy.validation import Validator

from adapters.hl7.ingest import Reader
from adapters.hl7.referral import ReferralFacts, build_ref_i12
from adapters.hl7.settings import load_settings
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import (
    Authority,
    Channel,
    Destination,
    FirstContact,
    IndicatorKind,
    Person,
    Referral,
    ReferralAction,
    ReferralStatus,
    RiskIndicator,
    Route,
)
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.hl7.mllp_peer import MllpReceiver
from tests.peers.service import write_trust_config

pytestmark = pytest.mark.integration

ROUTES = ("front_door", "out_of_hours", "early_help", "lado")


def authorities(port: int) -> str:
    routes = "\n".join(
        f'[authorities.testborough.routes.{r}]\nchannel = "hl7"\naddress = "127.0.0.1:{port}"\n'
        f'phone = "020 0000 000{i}"\n'
        for i, r in enumerate(ROUTES)
    )
    return f"""
[police]
channel = "phone"
phone = "999"

[authorities.testborough]
name = "Test Borough"
postcodes = ["N7"]

{routes}
"""


def python_hl7_ack(code: str) -> Callable[[bytes], bytes]:
    """The receiver's answer, written by python-hl7 (an independent implementation)."""

    def answer(data: bytes) -> bytes:
        return str(hl7.parse(data.decode("utf-8")).create_ack(code)).encode("utf-8")

    return answer


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[[int], Service]]:
    made: list[Service] = []

    def make(port: int) -> Service:
        extra = HL7_TOML.replace(
            "[hl7]\n", "[hl7]\nack_timeout_seconds = 2\nconnect_timeout_seconds = 2\n", 1
        )
        path = write_trust_config(
            tmp_path / "trust", extra_toml=extra, authorities=authorities(port)
        )
        config = load_trust_config(path)
        store = open_store(f"sqlite:///{tmp_path / 'referrals.db'}")
        service = Service(config, store, entry_points=False)
        made.append(service)
        return service

    yield make
    for service in made:
        service.store.close()


def share(service: Service) -> str:
    """Admit the adult from an ADT^A01, then record a decision to share; returns the referral id."""
    reader = Reader(load_settings(service.config), service.config.code_lists)
    contact = reader.contact(corpus_bytes("a01_v2_3_basic"))
    service.accept_contact(contact, message_key="NORTHGEN|C23-0001")
    doc = {
        "decided_by": {"id": "nurse-17", "role": "staff nurse"},
        "share": True,
        "level_of_need": 3,
        "reasons": "Parent admitted in crisis | child at home ^ no other carer.",
        "lawful_basis": "public_task",
        "consent": "not_sought",
        "consent_not_sought_reason": "Seeking consent would delay care for the child.",
        "child_refs": ["NK1-1"],
        "what_shared": "Admission, diagnosis category and the child's age.",
    }
    decision = decision_from_dict(doc, contact_id=contact.id, now=service.clock())
    recorded = service.record_decision(decision)
    assert len(recorded.referrals) == 1
    return recorded.referrals[0].id


def test_ref_i12_reaches_the_receiver_and_its_ack_is_recorded(
    make_service: Callable[[int], Service],
) -> None:
    with MllpReceiver(python_hl7_ack("AA")) as receiver:
        service = make_service(receiver.port)
        referral_id = share(service)
        assert OutboxWorker(service).run_once() == 1
    stored = service.store.get_referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.ACKNOWLEDGED
    assert stored.receipt is not None and stored.receipt.extra["ack_code"] == "AA"
    assert len(receiver.messages) == 1
    text = receiver.messages[0].decode("utf-8")
    assert stored.receipt.extra["message_control_id"] == stored.referral.idempotency_key
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
    assert Validator.validate(message)
    assert message.msh.msh_9.to_er7() == "REF^I12^REF_I12"
    assert message.msh.msh_10.to_er7() == stored.referral.idempotency_key
    segments = {s.split("|", 1)[0] for s in text.split("\r") if s}
    assert {"MSH", "RF1", "PRD", "PID", "NK1", "NTE"} <= segments
    assert "9990000018^^^NHS^NH" in text
    assert "NK1|1|TESTER^SAM|CHD^Child^HL70063" in text
    assert "\\F\\ child at home \\S\\ no other carer" in text


def test_rejected_referral_asks_for_a_phone_call(make_service: Callable[[int], Service]) -> None:
    with MllpReceiver(python_hl7_ack("AR")) as receiver:
        service = make_service(receiver.port)
        referral_id = share(service)
        OutboxWorker(service).run_once()
    stored = service.store.get_referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.CALL_REQUIRED
    assert stored.prompt is not None and "020 0000 000" in stored.prompt.summary


def test_silent_receiver_is_a_failed_attempt_retried_later(
    make_service: Callable[[int], Service],
) -> None:
    with MllpReceiver(lambda data: None) as receiver:
        service = make_service(receiver.port)
        referral_id = share(service)
        started = datetime.now().astimezone()
        OutboxWorker(service).run_once()
    stored = service.store.get_referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.FAILED
    assert stored.receipt is not None and "time limit" in stored.receipt.detail
    assert stored.next_attempt_at > started
    assert len(receiver.messages) == 1


@pytest.mark.parametrize(
    ("action", "event"),
    [(ReferralAction.NEW, "I12"), (ReferralAction.UPDATE, "I13"), (ReferralAction.CANCEL, "I14")],
)
def test_updates_and_cancellations_use_their_events_and_name_the_original(
    config: TrustConfig, action: ReferralAction, event: str
) -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    amends = None if action is ReferralAction.NEW else "0" * 32
    referral = Referral(
        id="1" * 32,
        decision_id="d-1",
        contact_id="hl7:NORTHGEN|C23-0001",
        route=Route.FRONT_DOOR,
        level_of_need=3,
        urgent=False,
        idempotency_key="tf-" + "1" * 32,
        created_at=now,
        due_by=now,
        authority_id="testborough",
        reasons="Change of address.",
        action=action,
        amends=amends,
    )
    destination = Destination(
        Authority("testborough", "Test Borough"), Route.FRONT_DOOR, Channel.HL7, "127.0.0.1:1", True
    )
    text = build_ref_i12(
        referral, destination, load_settings(config), ReferralFacts(), trust_name="Trust", at=now
    )
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
    assert Validator.validate(message)
    assert message.msh.msh_9.to_er7() == f"REF^{event}^REF_I12"
    assert message.msh.msh_10.to_er7() == "tf-" + "1" * 32
    assert message.rf1.rf1_6.to_er7() == f"{amends or '1' * 32}^TESTTRUST"


def test_an_ended_pregnancy_is_never_sent_in_a_referral(config: TrustConfig) -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    referral = Referral(
        id="2" * 32,
        decision_id="d-2",
        contact_id="c-2",
        route=Route.FRONT_DOOR,
        level_of_need=3,
        urgent=False,
        idempotency_key="tf-" + "2" * 32,
        created_at=now,
        due_by=now,
        authority_id="testborough",
    )
    icd10 = "http://hl7.org/fhir/sid/icd-10"
    contact = FirstContact(
        id="c-2",
        occurred_at=now,
        patient=Person(id="p-2"),
        indicators=(
            RiskIndicator(IndicatorKind.SUBSTANCE_MISUSE, icd10, "F10.2"),
            RiskIndicator(IndicatorKind.PREGNANCY_ENDED, icd10, "O04.9"),
            RiskIndicator(IndicatorKind.PREGNANCY_ENDED, "http://snomed.info/sct", "17369002"),
        ),
    )
    destination = Destination(
        Authority("testborough", "Test Borough"), Route.FRONT_DOOR, Channel.HL7, "127.0.0.1:1", True
    )
    text = build_ref_i12(
        referral,
        destination,
        load_settings(config),
        ReferralFacts(contact=contact),
        trust_name="Trust",
        at=now,
    )
    assert "F10.2" in text
    assert "O04.9" not in text
    assert "17369002" not in text
