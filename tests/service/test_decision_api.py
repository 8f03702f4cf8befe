"""The decision safeguards through the JSON API of ``thinkfamily serve``, over real HTTP: what is
refused (as OperationOutcomes naming each field), what is recorded, and the decision
escalations a safeguarding lead's worklist reads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.service import ServiceProcess, write_trust_config
from tests.peers.smtp import SmtpReceiver

from .conftest import TEST_AUTHORITIES, contact_doc, outbox_toml

pytestmark = pytest.mark.integration

THINKFAMILY = str(Path(sys.executable).with_name("thinkfamily"))
REASONS = "Children are staying with their grandmother, who cares for them every week."
OVERRIDE = "Social worker from the front door is already with the family on the ward."
LEAD = {"name": "Jo Example", "role": "Ward safeguarding lead", "contact": "020 7000 0001"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One service for the module: each test uses its own contacts."""
    folder = tmp_path_factory.mktemp("decision-api")
    with SmtpReceiver() as smtp:
        config = write_trust_config(
            folder / "config", extra_toml=outbox_toml(smtp.port), authorities=TEST_AUTHORITIES
        )
        process = ServiceProcess(config, f"sqlite:///{folder / 'tf.db'}", folder / "logs")
        process.start()
        try:
            yield process
        finally:
            process.stop()


def add_contact(service: ServiceProcess, contact_id: str) -> None:
    response = service.api("POST", "/api/contacts", json=contact_doc(contact_id))
    assert response.status_code == 201, response.text


def decide(service: ServiceProcess, contact_id: str, doc: dict[str, Any]) -> Any:
    return service.api("POST", f"/api/contacts/{contact_id}/decision", json=doc)


def issues(response: Any) -> dict[str, str]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return {issue["expression"][0]: issue["diagnostics"] for issue in body["issue"]}


def not_sharing(level: int, **extra: Any) -> dict[str, Any]:
    return {
        "decided_by": {"id": "nurse-17", "role": "staff nurse"},
        "share": False,
        "level_of_need": level,
        "reasons": REASONS,
    } | extra


def sharing(**extra: Any) -> dict[str, Any]:
    return {
        "decided_by": {"id": "nurse-17"},
        "share": True,
        "level_of_need": 3,
        "reasons": "Parent admitted in crisis; child at home with no other carer.",
        "what_shared": "Admission, diagnosis category and the child's age.",
        "lawful_basis": "public_task",
        "consent": "given",
    } | extra


def audit_details(service: ServiceProcess, kind: str, subject: str) -> dict[str, Any]:
    listed = subprocess.run(
        [THINKFAMILY, "audit", "list", "--db", service.db_url, "--kind", kind],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entries = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    (entry,) = [e for e in entries if e["subject"] == subject]
    return dict(entry["details"])


def test_a_one_word_reason_not_to_share_at_level_3_is_refused_naming_what_is_needed(
    service: ServiceProcess,
) -> None:
    add_contact(service, "api-thin")
    refused = decide(service, "api-thin", not_sharing(3, reasons="Fine."))
    assert refused.status_code == 422
    found = issues(refused)
    assert found["reasons"] == (
        "at level 3, say in at least 10 words why not sharing is right for the child (you wrote 1)"
    )
    assert found["escalated_to"].startswith("at level 3, not sharing must be escalated")
    half = decide(service, "api-thin", not_sharing(3, escalated_to={"name": "Jo Example"}))
    assert issues(half) == {
        "escalated_to.role": "give the lead's role, or a phone number or email for them"
    }
    assert service.api("GET", "/api/contacts/api-thin").json()["decisions"] == []


def test_level_4_not_shared_with_a_lead_is_recorded_and_both_escalations_are_listed(
    service: ServiceProcess,
) -> None:
    add_contact(service, "api-four")
    made = decide(
        service,
        "api-four",
        not_sharing(4, id="d-api-four", escalated_to=LEAD, no_action_override_reason=OVERRIDE),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["referrals"] == []
    kinds = {e["kind"]: e for e in body["escalations"]}
    assert kinds["not_shared"]["lead"] == LEAD
    assert kinds["override"]["lead"] == {
        "name": "Example Named Nurse",
        "role": "Named nurse for safeguarding children",
        "contact": "020 7000 0000; safeguarding@example-trust.nhs.uk",
    }

    listed = service.api("GET", "/api/decision-escalations?contact_id=api-four")
    assert listed.status_code == 200
    rows = listed.json()["decision_escalations"]
    assert sorted(rows, key=lambda r: r["kind"]) == sorted(
        body["escalations"], key=lambda r: r["kind"]
    )
    for row in rows:
        assert row["decision_id"] == "d-api-four" and row["contact_id"] == "api-four"
        assert row["level_of_need"] == 4 and row["escalated_by"] == "nurse-17"
        assert REASONS not in json.dumps(row) and OVERRIDE not in json.dumps(row)
    contact = service.api("GET", "/api/contacts/api-four").json()
    assert len(contact["decision_escalations"]) == 2
    # The referral escalations keep their own path and meaning.
    referral_escalations = service.api("GET", "/api/escalations").json()["escalations"]
    assert all("route" in r for r in referral_escalations)
    details = audit_details(service, "decision.escalated", kinds["override"]["id"])
    assert details["kind"] == "override" and details["decision"] == "d-api-four"


def test_consent_as_the_basis_is_refused_without_confirmation_and_recorded_with_it(
    service: ServiceProcess,
) -> None:
    add_contact(service, "api-consent")
    refused = decide(service, "api-consent", sharing(lawful_basis="consent"))
    assert refused.status_code == 422
    assert list(issues(refused)) == ["consent_basis_confirmed"]
    assert (
        "public task or legal obligation usually is" in issues(refused)["consent_basis_confirmed"]
    )
    wrong_type = decide(
        service, "api-consent", sharing(lawful_basis="consent", consent_basis_confirmed="yes")
    )
    assert issues(wrong_type) == {"consent_basis_confirmed": "must be true or false"}
    made = decide(
        service,
        "api-consent",
        sharing(id="d-api-consent", lawful_basis="consent", consent_basis_confirmed=True),
    )
    assert made.status_code == 201, made.text
    details = audit_details(service, "decision.recorded", "d-api-consent")
    assert details["lawful_basis"] == "consent" and details["consent_basis_confirmed"] is True


def test_advice_sought_is_accepted_recorded_in_the_audit_and_checked(
    service: ServiceProcess,
) -> None:
    add_contact(service, "api-advice")
    advice = {
        "name": "Sam Adviser",
        "role": "Named nurse for safeguarding children",
        "sought_at": "2026-03-03T09:20:00+00:00",
        "advice": "Share with the front door today.",
    }
    no_zone = decide(
        service, "api-advice", sharing(advice_sought=advice | {"sought_at": "2026-03-03T09:20"})
    )
    assert no_zone.status_code == 422
    assert list(issues(no_zone)) == ["advice_sought.sought_at"]
    half = decide(service, "api-advice", sharing(advice_sought={"name": "Sam Adviser"}))
    assert set(issues(half)) == {"advice_sought.sought_at", "advice_sought.advice"}
    made = decide(service, "api-advice", sharing(id="d-api-advice", advice_sought=advice))
    assert made.status_code == 201, made.text
    assert audit_details(service, "decision.recorded", "d-api-advice")["advice_sought"] == advice


def test_a_lado_concern_needs_its_criteria_and_criteria_alone_are_enough(
    service: ServiceProcess,
) -> None:
    add_contact(service, "api-lado")
    old_style = decide(service, "api-lado", sharing(concerns_person_working_with_children=True))
    assert old_style.status_code == 422
    assert issues(old_style) == {
        "lado_criteria": "choose which of the LADO criteria the concern meets"
    }
    unknown = decide(service, "api-lado", sharing(lado_criteria=["harmed_child", "rude"]))
    assert list(issues(unknown)) == ["lado_criteria[1]"]
    made = decide(
        service,
        "api-lado",
        sharing(id="d-api-lado", lado_criteria=["criminal_offence", "risk_of_harm"]),
    )
    assert made.status_code == 201, made.text
    assert {r["route"] for r in made.json()["referrals"]} == {"lado", "front_door"}
    details = audit_details(service, "decision.recorded", "d-api-lado")
    assert details["lado"] is True
    assert details["lado_criteria"] == ["criminal_offence", "risk_of_harm"]


def test_decision_escalations_need_the_token_and_a_whole_number_limit(
    service: ServiceProcess,
) -> None:
    no_token = service.api("GET", "/api/decision-escalations", headers={"Authorization": ""})
    assert no_token.status_code == 401
    assert no_token.json()["resourceType"] == "OperationOutcome"
    bad = service.api("GET", "/api/decision-escalations?limit=many")
    assert bad.status_code == 422
    assert issues(bad) == {"limit": "limit must be a whole number from 1 to 500"}
    zero = service.api("GET", "/api/decision-escalations?limit=0")
    assert zero.status_code == 422
    none_here = service.api("GET", "/api/decision-escalations?contact_id=nobody")
    assert none_here.json() == {"decision_escalations": []}
