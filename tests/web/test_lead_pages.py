"""The worklist, the dashboard, its charts and its CSV over HTTP: refused without credentials
or with the wrong role, the right content with them, no script anywhere."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from adapters.web import access
from adapters.web.access import Caller, Role

from .conftest import PATIENT_NAME, PATIENT_NHS, Pages, contact_doc

TOKEN = "lead-pages-test-token-0123456789abcdef"
WARD7 = "RFH/WARD7"
CHARTS = ("households", "prompts", "decisions", "escalations", "referrals")


def on_ward(doc: dict[str, Any], location: str, patient: str) -> dict[str, Any]:
    doc["encounter"] = {"id": f"e-{doc['id']}", "kind": "inpatient", "location": location}
    doc["patient"] = doc["patient"] | {"id": patient}
    return doc


@pytest.fixture
def lead(make_pages: Callable[..., Pages], monkeypatch: pytest.MonkeyPatch) -> Pages:
    pages = make_pages()
    monkeypatch.setenv(pages.service.config.api_token_env, TOKEN)
    pages.add_contact(on_ward(contact_doc("w7-1"), f"{WARD7}/BAY1/BED2", "p-w7"))
    unknown = on_ward(contact_doc("w7-2"), f"{WARD7}/BAY2/BED1", "p-w7b")
    unknown["household"] = None
    pages.add_contact(unknown)
    pages.add_contact(on_ward(contact_doc("w9-1"), "RFH/WARD9/BED3", "p-w9"))
    return pages


def get(pages: Pages, url: str, token: str | None = TOKEN) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return pages.client.get(url, headers=headers)


@pytest.mark.parametrize(
    "url", ["/worklist", "/dashboard", "/dashboard.csv", "/dashboard/charts/prompts.svg"]
)
def test_lead_pages_refuse_a_caller_without_the_token(lead: Pages, url: str) -> None:
    for token in (None, "not-the-token-but-long-enough-0123456789"):
        response = get(lead, url, token)
        assert response.status_code == 401
        assert response.headers["cache-control"] == "no-store"
        assert PATIENT_NAME not in response.text


def test_lead_pages_are_off_while_no_token_is_set(
    lead: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(lead.service.config.api_token_env)
    response = get(lead, "/worklist")
    assert response.status_code == 503
    assert lead.service.config.api_token_env in response.text


def test_worklist_lists_what_waits_with_a_signed_link_to_each_form(lead: Pages) -> None:
    response = get(lead, "/worklist")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'none'" in response.headers["content-security-policy"]
    text = response.text
    assert "Household not recorded" in text and "Decision needed" in text
    assert re.search(r'href="/form/w7-2\?t=[\w.-]+"', text)
    assert PATIENT_NAME in text
    assert PATIENT_NHS not in text  # the professional needs the name and place, not the number


def test_worklist_filters_by_ward_and_by_what_waits(lead: Pages) -> None:
    text = get(lead, f"/worklist?unit={WARD7}&waiting=household").text
    assert "/form/w7-2?" in text
    assert "/form/w7-1?" not in text and "/form/w9-1?" not in text


def test_a_ward_member_sees_only_their_own_ward(
    lead: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        access, "TOKEN_HOLDER", Caller("nurse-7", Role.UNIT_MEMBER, frozenset({WARD7}))
    )
    text = get(lead, "/worklist").text
    assert "/form/w7-1?" in text and "/form/w9-1?" not in text
    assert get(lead, "/worklist?unit=RFH/WARD9").status_code == 403
    assert get(lead, "/dashboard").status_code == 403
    assert get(lead, "/dashboard.csv").status_code == 403


def test_a_clinician_cannot_open_the_worklist_or_the_dashboard(
    lead: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "TOKEN_HOLDER", Caller("nurse-1", Role.CLINICIAN))
    assert get(lead, "/worklist").status_code == 403
    assert get(lead, "/dashboard").status_code == 403


def test_dashboard_shows_each_chart_from_this_origin_with_a_table_beside_it(lead: Pages) -> None:
    response = get(lead, "/dashboard?weeks=4")
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


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_is_an_svg_with_no_script_and_only_its_own_style_allowed(
    lead: Pages, name: str
) -> None:
    response = get(lead, f"/dashboard/charts/{name}.svg")
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


def test_an_unknown_chart_is_not_found(lead: Pages) -> None:
    assert get(lead, "/dashboard/charts/nothing.svg").status_code == 404


def test_dashboard_csv_suppresses_small_counts(lead: Pages) -> None:
    response = get(lead, "/dashboard.csv?weeks=1")
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
