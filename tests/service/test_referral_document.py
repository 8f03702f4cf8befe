"""A level 3 email referral received by a real SMTP server names the one child concerned, with
date of birth, and how to reach the referrer; the PDF attached and the one the API serves say
the same. No patient data reaches the subject or a log line."""

from __future__ import annotations

import io
import logging
import warnings
from datetime import date
from email.message import Message

import pytest
from pypdf import PdfReader
from starlette.exceptions import StarletteDeprecationWarning  # type: ignore[attr-defined]

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.http import build_app
from plugin_core.logs import JsonFormatter
from plugin_core.model import Professional
from plugin_core.outbox import OutboxWorker
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.service import Service
from tests.peers.smtp import SmtpReceiver

from .conftest import (
    CHILD_DOB,
    CHILD_NAME,
    IDENTIFIERS,
    OTHER_CHILD_DOB,
    OTHER_CHILD_NAME,
    REFERRAL_NOW,
    contact_doc,
    decision_doc,
)

NOW = REFERRAL_NOW
PRODUCT_LOGGERS = ("thinkfamily", "plugin_core", "adapters", "hooks")
REFERRER = {
    "id": "nurse-17",
    "name": "Jo Referrer",
    "role": "Staff nurse",
    "team": "Ward 7 acute medicine",
    "phone": "020 7946 0017",
    "email": "jo.referrer@trust.example",
}


@pytest.fixture
def service(referral_service: Service) -> Service:
    return referral_service


def refer_one_of_two_children(service: Service) -> str:
    """Two children with no host ids; the decision names the older one. Returns the referral id."""
    doc = contact_doc("c-two-children")
    doc["household"] = [
        {"name": CHILD_NAME, "birth_date": CHILD_DOB, "relationship": "child",
         "lives_with_patient": True},
        {"name": OTHER_CHILD_NAME, "birth_date": OTHER_CHILD_DOB, "relationship": "child",
         "lives_with_patient": True},
    ]  # fmt: skip
    accepted = service.accept_contact(contact_from_dict(doc, service.config.code_lists))
    (concerned,) = [
        c.ref for c in accepted.assessment.children if c.birth_date == date.fromisoformat(CHILD_DOB)
    ]
    decision = decision_doc(level=3) | {"decided_by": REFERRER, "child_refs": [concerned]}
    recorded = service.record_decision(
        decision_from_dict(decision, contact_id="c-two-children", now=NOW)
    )
    (referral,) = recorded.referrals
    return referral.id


def parts(message: Message) -> tuple[str, str, bytes]:
    """The email's text, the attachment's file name and the attached PDF."""
    text, filename, pdf = "", "", b""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
            text = payload.decode(part.get_content_charset() or "utf-8")
        elif part.get_content_type() == "application/pdf" and isinstance(payload, bytes):
            filename, pdf = str(part.get_filename()), payload
    return text, filename, pdf


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_level_3_email_referral_names_the_child_concerned_with_the_referrers_phone_and_pdf(
    service: Service, smtp: SmtpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    for name in PRODUCT_LOGGERS:  # the SMTP peer's own debug log would echo the message
        caplog.set_level(logging.DEBUG, logger=name)
    referral_id = refer_one_of_two_children(service)
    assert OutboxWorker(service).run_once() == 1

    (message,) = smtp.mailbox.messages
    assert message["To"] == "front-door@testborough.example"
    assert message["Subject"] == f"Safeguarding referral {referral_id}"
    text, filename, pdf = parts(message)
    document = pdf_text(pdf)
    assert filename == f"referral-{referral_id}.pdf"
    for said in (" ".join(text.split()), document):
        assert CHILD_NAME in said and "30/09/2017" in said
        assert OTHER_CHILD_NAME not in said and "05/04/2021" not in said
        assert REFERRER["phone"] in said and REFERRER["name"] in said
        assert "Level 3: complex needs" in said
        assert "Test Borough" in said
    for value in (*IDENTIFIERS, "30/09/2017"):
        assert value not in str(message["Subject"]) and value not in filename

    formatter = JsonFormatter()
    lines = [
        formatter.format(r) + r.getMessage()
        for r in caplog.records
        if r.name.split(".")[0] in PRODUCT_LOGGERS
    ]
    assert lines, "the flow logs what it did"
    assert not [v for v in IDENTIFIERS for line in lines if v in line]


def test_the_document_is_served_to_a_bearer_token_and_never_cached(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = refer_one_of_two_children(service)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    monkeypatch.setenv(service.config.api_token_env, "api-test-token-0123456789abcdefghij")
    client = TestClient(build_app(service))
    path = f"/api/referrals/{referral_id}/document"
    assert client.get(path).status_code == 401

    response = client.get(
        path, headers={"Authorization": "Bearer api-test-token-0123456789abcdefghij"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="referral-{referral_id}.pdf"' in response.headers["content-disposition"]
    document = pdf_text(response.content)
    assert CHILD_NAME in document and OTHER_CHILD_NAME not in document
    assert REFERRER["email"] in document
    kinds = [(e.kind, e.subject) for e in service.store.audit_entries()]
    assert ("referral.document", referral_id) in kinds

    missing = client.get(
        "/api/referrals/no-such-referral/document",
        headers={"Authorization": "Bearer api-test-token-0123456789abcdefghij"},
    )
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_decided_by_takes_the_referrers_contact_and_an_id_alone_still_reads() -> None:
    full = decision_from_dict(decision_doc() | {"decided_by": REFERRER}, contact_id="c", now=NOW)
    assert full.decided_by == Professional(**REFERRER)
    assert "020" not in repr(full.decided_by)
    plain = decision_from_dict(
        decision_doc() | {"decided_by": {"id": "nurse-17"}}, contact_id="c", now=NOW
    )
    assert plain.decided_by == Professional("nurse-17")
    with pytest.raises(DecisionInvalid) as caught:
        decision_from_dict(
            decision_doc() | {"decided_by": {"id": "nurse-17", "phone": 2079460017}},
            contact_id="c",
            now=NOW,
        )
    assert [p.field for p in caught.value.problems] == ["decided_by.phone"]
