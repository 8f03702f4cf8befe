"""The worklist, the dashboard, its charts and its CSV over HTTP behind the session guard:
refused without a session or with the wrong role, a unit member kept to their own wards, the
right content for the right person, no script anywhere."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from adapters.web.signin_settings import Role

from .conftest import PATIENT_NAME, PATIENT_NHS, Person, SessionPages, TestClient, contact_doc

WARD7 = "RFH/WARD7"
CHARTS = ("households", "prompts", "decisions", "escalations", "referrals")


def on_ward(doc: dict[str, Any], location: str, patient: str) -> dict[str, Any]:
    doc["encounter"] = {"id": f"e-{doc['id']}", "kind": "inpatient", "location": location}
    doc["patient"] = doc["patient"] | {"id": patient}
    return doc


@pytest.fixture
def wards(make_session_pages: Callable[..., SessionPages]) -> SessionPages:
    pages = make_session_pages()
    pages.add_contact(on_ward(contact_doc("w7-1"), f"{WARD7}/BAY1/BED2", "p-w7"))
    unknown = on_ward(contact_doc("w7-2"), f"{WARD7}/BAY2/BED1", "p-w7b")
    unknown["household"] = None
    pages.add_contact(unknown)
    pages.add_contact(on_ward(contact_doc("w9-1"), "RFH/WARD9/BED3", "p-w9"))
    return pages


@pytest.fixture
def lead(wards: SessionPages) -> TestClient:
    return wards.person(Role.SAFEGUARDING_LEAD, subject="lead-1").client


@pytest.fixture
def ward7(wards: SessionPages) -> Person:
    return wards.person(Role.UNIT_MEMBER, units=(WARD7,), subject="nurse-7")


@pytest.mark.parametrize("url", ["/worklist", "/dashboard"])
def test_lead_pages_send_a_caller_without_a_session_to_sign_in(
    wards: SessionPages, url: str
) -> None:
    response = wards.anonymous().get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={url.replace('/', '%2F')}"
    assert PATIENT_NAME not in response.text


@pytest.mark.parametrize("url", ["/dashboard.csv", "/dashboard/charts/prompts.svg"])
def test_the_csv_and_charts_answer_401_without_a_session_even_with_the_api_token(
    wards: SessionPages, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "lead-pages-test-token-0123456789abcdef"
    monkeypatch.setenv(wards.service.config.api_token_env, token)
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        response = wards.anonymous().get(url, headers=headers)
        assert response.status_code == 401
        assert response.headers["cache-control"] == "no-store"
        assert PATIENT_NAME not in response.text


def test_worklist_lists_what_waits_with_links_to_the_form_and_the_household(
    lead: TestClient,
) -> None:
    response = lead.get("/worklist")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'none'" in response.headers["content-security-policy"]
    text = response.text
    assert "Household not recorded" in text and "Decision needed" in text
    assert 'href="/form/w7-2"' in text and 'href="/household/w7-2"' in text
    assert 'href="/household/w7-1"' not in text  # its household is known
    assert "?t=" not in text  # the session opens the form: no signed link is handed out
    assert PATIENT_NAME in text
    assert PATIENT_NHS not in text  # the professional needs the name and place, not the number
    assert 'action="/signout"' in text


def test_worklist_filters_by_ward_and_by_what_waits(lead: TestClient) -> None:
    text = lead.get(f"/worklist?unit={WARD7}&waiting=household").text
    assert 'href="/form/w7-2"' in text
    assert 'href="/form/w7-1"' not in text and 'href="/form/w9-1"' not in text


def test_a_ward_member_sees_only_their_own_ward(ward7: Person) -> None:
    text = ward7.client.get("/worklist").text
    assert 'href="/form/w7-1"' in text and 'href="/form/w9-1"' not in text
    refused = ward7.client.get("/worklist?unit=RFH/WARD9")
    assert refused.status_code == 403 and "not one of yours" in refused.text
    assert ward7.client.get("/dashboard").status_code == 403
    assert ward7.client.get("/dashboard.csv").status_code == 403
    assert ward7.client.get("/dashboard/charts/prompts.svg").status_code == 403


def test_a_ward_member_with_no_ward_named_sees_no_patient(wards: SessionPages) -> None:
    nobody = wards.person(Role.UNIT_MEMBER, units=()).client
    text = nobody.get("/worklist").text
    assert PATIENT_NAME not in text and "Nothing is waiting" in text


def test_a_clinician_cannot_open_the_worklist_or_the_dashboard(wards: SessionPages) -> None:
    nurse = wards.person(Role.CLINICIAN).client
    assert nurse.get("/worklist").status_code == 403
    assert nurse.get("/dashboard").status_code == 403
    assert nurse.get("/dashboard.csv").status_code == 403


def test_an_administrator_opens_the_worklist_and_the_dashboard(wards: SessionPages) -> None:
    admin = wards.person(Role.ADMINISTRATOR).client
    assert 'href="/form/w9-1"' in admin.get("/worklist").text
    assert admin.get("/dashboard").status_code == 200
    assert admin.get("/dashboard.csv").status_code == 200


def test_dashboard_shows_each_chart_from_this_origin_with_a_table_beside_it(
    lead: TestClient,
) -> None:
    response = lead.get("/dashboard?weeks=4")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "img-src 'self'" in policy
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert "<script" not in text
    for name in CHARTS:
        assert f'src="/dashboard/charts/{name}.svg?weeks=4"' in text
    assert text.count('<table class="nhsuk-table">') == len(CHARTS) + 1  # and by ward or team
    assert 'href="/dashboard.csv?weeks=4"' in text
    assert PATIENT_NAME not in text
    assert 'action="/signout"' in text


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_is_an_svg_with_no_script_and_only_its_own_style_allowed(
    lead: TestClient, name: str
) -> None:
    response = lead.get(f"/dashboard/charts/{name}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "no-store"
    svg = response.text
    assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
    root = ET.fromstring(svg)
    assert not [e for e in root.iter() if e.get("style") or e.tag.endswith("script")]
    assert not [a for e in root.iter() for a in e.attrib if a.lower().startswith("on")]
    (style,) = [e for e in root.iter() if e.tag.endswith("style")]
    digest = base64.b64encode(hashlib.sha256((style.text or "").encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy


def test_an_unknown_chart_is_not_found(lead: TestClient) -> None:
    assert lead.get("/dashboard/charts/nothing.svg").status_code == 404


def test_dashboard_csv_suppresses_small_counts(lead: TestClient) -> None:
    response = lead.get("/dashboard.csv?weeks=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    start = rows.index(["Adult first contacts by week"])
    header, week, total = rows[start + 1 : start + 4]
    assert header[1] == "Adult first contacts" and total[0] == "Total"
    # Three contacts this week: a count from 1 to 4, shown as <5 in its row and the total.
    assert week[1] == "<5" and total[1] == "<5"
    assert "3" not in week[1:]
    assert PATIENT_NAME not in response.text
