"""What the JSON API refuses, in process: changes a referral's state does not allow, a second
decision that does not say what it replaces, limits out of range, bodies too deep or too big,
ids that could never be fetched again, and a token too short to be safe."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core.cli import main
from plugin_core.http import build_app
from plugin_core.service import Service
from plugin_core.settings.trust_config import ConfigError, load_trust_config
from plugin_core.store import open_store

from .conftest import contact_doc, decision_doc

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "integrity-test-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Api:
    service: Service
    client: Any
    config_path: Path

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = HEADERS | kwargs.pop("headers", {})
        return self.client.request(method, path, headers=headers, **kwargs)

    def issues(self, response: Any) -> list[dict[str, Any]]:
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", body
        issues: list[dict[str, Any]] = body["issue"]
        return issues

    def referred(self, contact_id: str) -> str:
        assert self.call("POST", "/api/contacts", json=contact_doc(contact_id)).status_code == 201
        made = self.call(
            "POST", f"/api/contacts/{contact_id}/decision", json=decision_doc(decision_id="d-1")
        )
        assert made.status_code == 201, made.text
        referral_id: str = made.json()["referrals"][0]["id"]
        return referral_id


@pytest.fixture
def api(make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    path = make_config(2525)
    config = load_trust_config(path)
    monkeypatch.setenv(config.api_token_env, TOKEN)
    service = Service(config, open_store(f"sqlite:///{tmp_path / 'tf.db'}"), entry_points=False)
    yield Api(service, TestClient(build_app(service)), path)
    service.close()


def change(api: Api, referral_id: str, what: str, **body: Any) -> Any:
    return api.call(
        "POST",
        f"/api/referrals/{referral_id}/{what}",
        json={"by": "nurse-17", "reasons": "Sent in error.", "how": "phoned"} | body,
    )


# Referrals and decisions ----------------------------------------------------------------------


def test_a_referral_sent_without_the_referrers_phone_or_email_is_recorded_with_a_warning(
    api: Api,
) -> None:
    assert api.call("POST", "/api/contacts", json=contact_doc("reach-1")).status_code == 201
    bare = api.call(
        "POST", "/api/contacts/reach-1/decision", json=decision_doc(decision_id="d-reach-1")
    )
    assert bare.status_code == 201, bare.text
    assert bare.json()["referrals"]
    (warning,) = bare.json()["warnings"]
    assert warning["field"] == "decided_by.phone"
    assert "trust's safeguarding lead" in warning["reason"]

    assert api.call("POST", "/api/contacts", json=contact_doc("reach-2")).status_code == 201
    reachable = decision_doc(decision_id="d-reach-2")
    reachable["decided_by"] |= {"email": "nurse.17@trust.example"}
    told = api.call("POST", "/api/contacts/reach-2/decision", json=reachable)
    assert told.status_code == 201 and told.json()["referrals"]
    assert told.json()["warnings"] == []
    # Counted for the safeguarding lead's review, once: the second referral had an email.
    assert api.service.store.counters()["referrals.referrer_unreachable"] == 1
    health = api.call("GET", "/healthz").json()
    assert health["counters"]["referrals.referrer_unreachable"] == 1


def test_acknowledging_or_updating_a_cancelled_referral_is_409_naming_the_state(api: Api) -> None:
    referral_id = api.referred("c-409")
    assert change(api, referral_id, "cancel").status_code == 200
    for what, verb in (("acknowledge", "acknowledged"), ("update", "updated")):
        refused = change(api, referral_id, what)
        assert refused.status_code == 409
        (issue,) = api.issues(refused)
        assert issue["diagnostics"] == f"this referral is cancelled: it cannot be {verb}"
        assert issue["code"] == "business-rule"
    assert api.call("GET", f"/api/referrals/{referral_id}").json()["status"] == "cancelled"


def test_cancelling_a_referral_twice_over_the_api_answers_alike_and_sends_nothing(
    api: Api,
) -> None:
    referral_id = api.referred("c-twice")
    answers = [change(api, referral_id, "cancel", id=f"x{n}") for n in (1, 2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json() == {"withdrawn": referral_id, "sent": None}
    record = api.call("GET", "/api/contacts/c-twice").json()
    assert [r["action"] for r in record["referrals"]] == ["new"]


def test_a_second_decision_over_the_api_must_name_the_one_it_supersedes(api: Api) -> None:
    referral_id = api.referred("c-again")
    path = "/api/contacts/c-again/decision"
    refused = api.call("POST", path, json=decision_doc(decision_id="d-2"))
    assert refused.status_code == 409
    (issue,) = api.issues(refused)
    assert issue["expression"] == ["supersedes"] and "(d-1)" in issue["diagnostics"]
    replaced = api.call(
        "POST", path, json=decision_doc(decision_id="d-2", level=2) | {"supersedes": "d-1"}
    )
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["withdrawn"] == [referral_id]
    assert replaced.json()["supersedes"] == "d-1"
    record = api.call("GET", "/api/contacts/c-again").json()
    assert record["current_decision"] == "d-2"
    assert [d["supersedes"] for d in record["decisions"]] == [None, "d-1"]


# Smaller guards -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["-1", "0", "501", "many", "1e3", "²"])
def test_a_list_limit_outside_1_to_500_is_422(api: Api, limit: str) -> None:
    for path in ("/api/contacts", "/api/decision-escalations"):
        refused = api.call("GET", path, params={"limit": limit})
        assert refused.status_code == 422, (path, limit)
        (issue,) = api.issues(refused)
        assert issue["expression"] == ["limit"]
    assert api.call("GET", "/api/contacts", params={"limit": "500"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, 400),
        (b'{"id": ' + b"[" * 64 + b"]" * 64 + b"}", 400),
        (b'{"id": 1' + b"0" * 5_000 + b"}", 400),
        (b'{"id": "' + b"x" * 1_100_000 + b'"}', 413),
    ],
    ids=["arrays-100k-deep", "objects-100k-deep", "65-deep", "huge-number", "over-1MB"],
)
def test_a_deep_or_huge_json_body_is_refused_with_an_outcome_never_a_500(
    api: Api, body: bytes, status: int
) -> None:
    for path in ("/api/contacts", "/api/contacts/c-any/decision"):
        refused = api.call("POST", path, content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == status, (path, refused.text[:200])
        assert api.issues(refused)
    assert api.call("POST", "/api/contacts", json=contact_doc("c-after")).status_code == 201


@pytest.mark.parametrize(
    "contact_id", ["a/b", "a\\b", ".", "..", "a\x00b", "a\x1b[2Jb", "a\u202eb"]
)
def test_a_contact_id_that_cannot_be_used_in_an_address_is_refused_naming_the_id(
    api: Api, contact_id: str
) -> None:
    refused = api.call("POST", "/api/contacts", json=contact_doc(contact_id))
    assert refused.status_code == 422
    (issue,) = api.issues(refused)
    assert issue["expression"] == ["$.id"]
    assert api.service.contacts() == []


def test_a_contact_id_with_spaces_and_url_characters_is_fetched_back_by_its_address(
    api: Api,
) -> None:
    contact_id = "ward 7 #3?x=1&y=50% é"
    assert api.call("POST", "/api/contacts", json=contact_doc(contact_id)).status_code == 201
    found = api.call("GET", f"/api/contacts/{quote(contact_id, safe='')}")
    assert found.status_code == 200 and found.json()["id"] == contact_id


# The token ------------------------------------------------------------------------------------


def test_an_api_token_shorter_than_32_characters_stops_start_up_naming_the_key(
    make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_config(2525)
    config = load_trust_config(path)
    short = "short-secret-abcdefghijklmnopqr"  # 31 characters
    monkeypatch.setenv(config.api_token_env, short)
    with pytest.raises(ConfigError) as caught:
        Service(config, open_store(f"sqlite:///{tmp_path / 'a.db'}"), entry_points=False)
    (issue,) = caught.value.issues
    assert (issue.file, issue.key) == (str(path), "api.token_env")
    assert "shorter than 32 characters" in issue.reason and short not in str(caught.value)
    monkeypatch.setenv(config.api_token_env, short + "s")
    Service(config, open_store(f"sqlite:///{tmp_path / 'b.db'}"), entry_points=False).close()


def test_config_check_names_a_short_api_token_without_printing_it(
    make_config: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_config(2525)
    monkeypatch.setenv("THINKFAMILY_API_TOKEN", "tiny-token")
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: api.token_env: the token in THINKFAMILY_API_TOKEN is shorter" in err
    assert "tiny-token" not in err


def test_a_short_token_set_after_start_up_keeps_the_api_off(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(api.service.config.api_token_env, "tiny")
    off = api.client.get("/api/contacts", headers={"Authorization": "Bearer tiny"})
    assert off.status_code == 503 and "shorter than 32" in off.text and "tiny" not in off.text
