"""The household and phone call operations of the JSON API, over HTTP in process."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core.http import build_app
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store

from .conftest import CHILD_NAME, OTHER_CHILD_NAME, FakeClock, contact_doc, decision_doc

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "household-api-test-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
NURSE = {"id": "nurse-17", "role": "staff nurse"}


@pytest.fixture
def api(make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    config = load_trust_config(make_config(2525))
    monkeypatch.setenv(config.api_token_env, TOKEN)
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        clock=FakeClock(NOW),
    )
    yield TestClient(build_app(service))
    service.close()


def unknown_household(api: Any, contact_id: str) -> None:
    doc = contact_doc(contact_id) | {"household": None}
    assert api.post("/api/contacts", json=doc, headers=HEADERS).status_code == 201


TWO_CHILDREN = [
    {
        "name": CHILD_NAME,
        "birth_date": "2017-09-30",
        "relationship": "child",
        "lives_with_patient": True,
        "school": "Hill Primary",
    },
    {
        "name": OTHER_CHILD_NAME,
        "estimated_age": 3,
        "relationship": "stepchild",
        "lives_with_patient": False,
    },
]


def test_recording_two_children_reassesses_and_a_repeat_is_answered_the_same(api: Any) -> None:
    unknown_household(api, "c-api-h1")
    body = {"id": "h-api-1", "recorded_by": NURSE, "outcome": "children", "pregnant": False}
    body["children"] = TWO_CHILDREN
    first = api.post("/api/contacts/c-api-h1/household", json=body, headers=HEADERS)
    assert first.status_code == 201, first.text
    found = first.json()
    assert found["answer_id"] == "h-api-1" and not found["repeat"]
    assert found["assessment"]["household_known"] is True
    assert len(found["assessment"]["children"]) == 2
    assert "record-household" not in found["contact"]["prompts"]
    again = api.post("/api/contacts/c-api-h1/household", json=body, headers=HEADERS)
    assert again.status_code == 200 and again.json()["repeat"] is True


def test_declined_is_recorded_and_the_household_stays_unknown(api: Any) -> None:
    unknown_household(api, "c-api-h2")
    body = {"recorded_by": NURSE, "outcome": "declined"}
    found = api.post("/api/contacts/c-api-h2/household", json=body, headers=HEADERS)
    assert found.status_code == 201, found.text
    assert found.json()["assessment"]["household_known"] is False
    assert "record-household" in found.json()["contact"]["prompts"]


def test_an_invalid_household_gets_an_operation_outcome_naming_each_field(api: Any) -> None:
    unknown_household(api, "c-api-h3")
    body = {
        "recorded_by": NURSE,
        "outcome": "children",
        "children": [
            {"name": "", "relationship": "partner", "lives_with_patient": True},
            {"name": "Kit", "birth_date": "31/02/2020", "relationship": "child"},
        ],
    }
    refused = api.post("/api/contacts/c-api-h3/household", json=body, headers=HEADERS)
    assert refused.status_code == 422
    doc = refused.json()
    assert doc["resourceType"] == "OperationOutcome"
    fields = [issue["expression"][0] for issue in doc["issue"]]
    assert "children.0.name" in fields and "children.0.relationship" in fields
    assert "children.0.birth_date" in fields
    assert "children.1.birth_date" in fields and "children.1.lives_with_patient" in fields


def test_a_household_for_an_unknown_contact_is_404_and_without_a_token_401(api: Any) -> None:
    body = {"recorded_by": NURSE, "outcome": "no_children"}
    assert api.post("/api/contacts/nope/household", json=body, headers=HEADERS).status_code == 404
    assert api.post("/api/contacts/nope/household", json=body).status_code == 401


def referral_for(api: Any, contact_id: str, **changes: Any) -> list[dict[str, Any]]:
    assert (
        api.post("/api/contacts", json=contact_doc(contact_id), headers=HEADERS).status_code == 201
    )
    made = api.post(
        f"/api/contacts/{contact_id}/decision", json=decision_doc() | changes, headers=HEADERS
    )
    assert made.status_code == 201, made.text
    referrals: list[dict[str, Any]] = made.json()["referrals"]
    return referrals


def test_a_police_call_sheet_then_the_call_recorded_with_a_reference(api: Any) -> None:
    referrals = referral_for(api, "c-api-call1", level_of_need=4, immediate_danger=True)
    police = next(r for r in referrals if r["route"] == "police")
    sheet = api.get(f"/api/referrals/{police['id']}/call", headers=HEADERS).json()
    assert sheet["needs_call"] is True and sheet["calls"][0]["number"] == "999"
    assert [s["step"] for s in sheet["script"]][:2] == ["Who you are", "Why you are calling"]
    call = {
        "recorded_by": NURSE,
        "number": "999",
        "answered_by": "Call handler 4471, Metropolitan Police",
        "called_at": "2026-03-03T09:55:00+00:00",
        "reference": "CAD 1234/03MAR",
        "advice": "Officers on their way.",
    }
    done = api.post(f"/api/referrals/{police['id']}/call", json=call, headers=HEADERS)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "acknowledged" and done.json()["prompt"] is None
    after = api.get(f"/api/referrals/{police['id']}/call", headers=HEADERS).json()
    assert after["needs_call"] is False and len(after["calls_made"]) == 1


def test_a_call_without_a_reference_leaves_the_referral_delivered_not_acknowledged(
    api: Any,
) -> None:
    (referral,) = referral_for(api, "c-api-call2")
    call = {"recorded_by": NURSE, "number": "020 0000 0001", "answered_by": "Duty worker"}
    done = api.post(f"/api/referrals/{referral['id']}/call", json=call, headers=HEADERS)
    assert done.status_code == 201
    assert done.json()["status"] == "delivered" and done.json()["acknowledged_at"] is None


def test_an_invalid_call_is_422_an_unknown_referral_404_a_cancelled_one_409(api: Any) -> None:
    (referral,) = referral_for(api, "c-api-call3")
    url = f"/api/referrals/{referral['id']}/call"
    blank = api.post(url, json={"recorded_by": NURSE, "called_at": "yesterday"}, headers=HEADERS)
    assert blank.status_code == 422
    assert [i["expression"][0] for i in blank.json()["issue"]] == ["called_at"]
    nobody = api.post(url, json={"recorded_by": NURSE}, headers=HEADERS)
    assert [i["expression"][0] for i in nobody.json()["issue"]] == ["answered_by", "number"]
    call = {"recorded_by": NURSE, "number": "1", "answered_by": "Duty worker"}
    assert api.post("/api/referrals/nope/call", json=call, headers=HEADERS).status_code == 404
    cancel = {"by": "nurse-17", "reasons": "Sent in error."}
    assert api.post(f"/api/referrals/{referral['id']}/cancel", json=cancel, headers=HEADERS)
    conflict = api.post(url, json=call, headers=HEADERS)
    assert conflict.status_code == 409 and conflict.json()["resourceType"] == "OperationOutcome"
