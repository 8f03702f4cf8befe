"""Sign-in through a real OpenID provider (node-oidc-provider on loopback), the session it
starts, the role guard on the signed-in pages, CSRF on posts, and the session's end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from plugin_core.http import build_app
from tests.peers.oidc_provider import OidcPeer, needs_oidc_peer, provider_login

from .conftest import TestClient, contact_doc, sharing_form
from .signin_support import SECURE_BASE, SigninPages, cookie_attributes, set_cookie_header

pytestmark = [pytest.mark.integration, needs_oidc_peer]

Make = Callable[..., SigninPages]


def test_signing_in_starts_a_session_with_a_secure_httponly_lax_cookie(make_signin: Make) -> None:
    pages = make_signin()
    back = pages.sign_in("lead", "/dashboard")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/dashboard"
    cookie = cookie_attributes(set_cookie_header(back, "__Host-thinkfamily"))
    assert cookie["name"] == "__Host-thinkfamily"
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert "domain" not in cookie

    home = pages.client.get("/")
    assert home.status_code == 200
    assert "Lee Testlead" in home.text and "Sign out" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert pages.client.get("/dashboard").status_code == 200


def test_the_authorization_request_carries_pkce_state_and_nonce(make_signin: Make) -> None:
    started = make_signin().begin()
    assert started.status_code == 303
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 40 and query["nonce"][0]
    assert query["redirect_uri"] == ["https://testserver/signin/callback"]
    assert query["scope"] == ["openid profile thinkfamily"]


def test_without_a_session_pages_redirect_to_sign_in_and_the_csv_answers_401(
    make_signin: Make,
) -> None:
    pages = make_signin()
    for path in ("/worklist", "/dashboard", "/"):
        answer = pages.client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/signin?next={path.replace('/', '%2F')}"
    csv = pages.client.get("/dashboard.csv", follow_redirects=False)
    assert csv.status_code == 401
    assert csv.json()["issue"][0]["code"] == "login"
    assert csv.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("login", "worklist", "dashboard"),
    [("nurse", 403, 403), ("ward", 200, 403), ("lead", 200, 200), ("admin", 200, 200)],
)
def test_each_role_opens_only_its_own_pages(
    make_signin: Make, login: str, worklist: int, dashboard: int
) -> None:
    pages = make_signin()
    assert pages.sign_in(login).status_code == 303
    assert pages.client.get("/worklist").status_code == worklist
    assert pages.client.get("/dashboard").status_code == dashboard
    assert pages.client.get("/dashboard.csv").status_code == dashboard


def test_an_account_whose_claims_map_to_no_role_gets_no_session(make_signin: Make) -> None:
    pages = make_signin()
    back = pages.sign_in("visitor")
    assert back.status_code == 403
    assert "no ThinkFamily role" in back.text
    assert "set-cookie" not in back.headers


def test_a_sign_in_answer_is_used_once_and_an_unknown_state_is_refused(
    make_signin: Make, oidc_peer: OidcPeer
) -> None:
    pages = make_signin()
    started = pages.begin()
    with httpx.Client(base_url=oidc_peer.issuer, timeout=15) as provider:
        back = urlsplit(provider_login(provider, started.headers["location"], "nurse"))
    first = pages.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert first.status_code == 303
    again = make_signin(folder="config").client.get(
        f"{back.path}?{back.query}", follow_redirects=False
    )
    assert again.status_code == 400
    forged = pages.client.get("/signin/callback?code=abc&state=made-up", follow_redirects=False)
    assert forged.status_code == 400 and "Sign in again" in forged.text


def test_a_sign_in_answer_carried_to_another_browser_is_refused(
    make_signin: Make, oidc_peer: OidcPeer
) -> None:
    pages = make_signin()
    started = pages.begin()
    binding = cookie_attributes(set_cookie_header(started, "__Host-thinkfamily-signin"))
    assert binding["httponly"] is True and binding["secure"] is True
    with httpx.Client(base_url=oidc_peer.issuer, timeout=15) as provider:
        back = urlsplit(provider_login(provider, started.headers["location"], "lead"))
    other = TestClient(build_app(pages.service), base_url=SECURE_BASE)
    refused = other.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert refused.status_code == 400 and "another browser" in refused.text
    assert "__Host-thinkfamily" not in refused.headers.get("set-cookie", "")
    assert other.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_post_without_the_session_csrf_token_is_refused(make_signin: Make) -> None:
    pages = make_signin()
    assert pages.sign_in("ward").status_code == 303
    refused = pages.client.post("/signout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    wrong = pages.client.post("/signout", data={"csrf": "guessed"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert pages.client.get("/worklist").status_code == 200

    csrf = _csrf(pages.client.get("/").text)
    out = pages.client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signed-out"
    assert pages.client.get("/worklist", follow_redirects=False).status_code == 303


def test_a_signed_in_clinician_records_a_decision_without_a_link_and_only_with_csrf(
    make_signin: Make,
) -> None:
    pages = make_signin()
    contact_id = pages.add_contact(contact_doc("signed-in-1"))
    assert pages.sign_in("nurse").status_code == 303
    form = pages.client.get(f"/form/{contact_id}")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    csrf = _csrf(form.text)
    decision_id = _field(form.text, "decision_id")

    posted = sharing_form("", decision_id) | {"csrf": ""}
    refused = pages.client.post(f"/form/{contact_id}", data=posted, follow_redirects=False)
    assert refused.status_code == 403
    assert pages.service.decisions(contact_id) == []

    posted["csrf"] = csrf
    recorded = pages.client.post(f"/form/{contact_id}", data=posted, follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    (decision,) = pages.service.decisions(contact_id)
    assert decision.decided_by.id == "nurse"


def test_a_session_ends_after_the_idle_time_and_at_its_absolute_end(make_signin: Make) -> None:
    pages = make_signin(extra="idle_minutes = 30\nabsolute_hours = 2\n")
    assert pages.sign_in("lead").status_code == 303
    pages.clock.now += timedelta(minutes=29)
    assert pages.client.get("/dashboard").status_code == 200
    for _ in range(3):  # used every 29 minutes: idle never ends it, the absolute end does
        pages.clock.now += timedelta(minutes=29)
        assert pages.client.get("/dashboard").status_code == 200
    pages.clock.now += timedelta(minutes=5)  # 2 h 1 min after sign-in
    assert pages.client.get("/dashboard", follow_redirects=False).status_code == 303

    assert pages.sign_in("lead").status_code == 303
    pages.clock.now += timedelta(minutes=31)
    assert pages.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_session_survives_a_restart_of_the_service(make_signin: Make) -> None:
    first = make_signin()
    assert first.sign_in("ward").status_code == 303
    cookie = first.client.cookies.get("__Host-thinkfamily")
    assert cookie
    first.service.close()
    second = make_signin(folder="config")  # same configuration and database, a new process
    again = second.client.get("/worklist", headers={"cookie": f"__Host-thinkfamily={cookie}"})
    assert again.status_code == 200


def test_a_cookie_without_secure_is_refused_off_loopback(make_signin: Make) -> None:
    loopback = make_signin(secure=False, folder="loopback")
    back = loopback.sign_in("ward")
    assert back.status_code == 303
    cookie = cookie_attributes(set_cookie_header(back, "thinkfamily"))
    assert cookie["name"] == "thinkfamily" and "secure" not in cookie
    assert loopback.client.get("/worklist").status_code == 200

    loopback.client.base_url = httpx.URL("http://tf.example.nhs.uk")
    assert loopback.client.get("/signin", follow_redirects=False).status_code == 503


def _csrf(html: str) -> str:
    return _field(html, "csrf")


def _field(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
