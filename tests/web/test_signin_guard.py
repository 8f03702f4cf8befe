"""The guard and the session in process, with a session made directly in the service: roles
from claims as providers send them, no open redirect, the cookie's name and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.web.signin import SignedIn, is_loopback, local_path
from adapters.web.signin_settings import Role, SigninSettings, roles_from, units_from
from plugin_core.host.check import check_configuration
from plugin_core.http import build_app
from tests.peers.oidc_provider import signin_toml
from tests.peers.service import write_trust_config
from tests.service.conftest import FakeClock

from .conftest import TUESDAY_MORNING, TestClient, web_toml
from .signin_support import LOOPBACK_BASE, SECURE_BASE, make_service

SETTINGS = SigninSettings(
    role_claim="groups",
    units_claim="units",
    roles={"TF.Lead": Role.SAFEGUARDING_LEAD, "TF.Ward": Role.UNIT_MEMBER},
)


@pytest.mark.parametrize(
    ("claim", "roles"),
    [
        (["TF.Lead", "Other"], {Role.SAFEGUARDING_LEAD}),
        ("TF.Ward", {Role.UNIT_MEMBER}),
        ("TF.Ward TF.Lead", {Role.UNIT_MEMBER, Role.SAFEGUARDING_LEAD}),
        (["tf.lead"], set()),
        (42, set()),
        (None, set()),
    ],
)
def test_roles_come_from_the_configured_claim_values_only(claim: object, roles: set[Role]) -> None:
    assert roles_from({"groups": claim, "roles": ["TF.Lead"]}, SETTINGS) == roles


def test_units_come_from_their_claim_once_each() -> None:
    assert units_from({"units": ["ward-7", "ward-9", "ward-7", 3]}, SETTINGS) == (
        "ward-7",
        "ward-9",
    )
    assert units_from({"units": ["ward-7"]}, SigninSettings()) == ()


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/worklist?unit=ward-7", "/worklist?unit=ward-7"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("worklist", "/"),
        (None, "/"),
    ],
)
def test_sign_in_returns_only_to_a_path_on_this_site(target: str | None, kept: str) -> None:
    assert local_path(target) == kept


def test_loopback_is_named_by_address_or_localhost_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("testserver") and not is_loopback("10.0.0.1")


def test_a_signed_in_person_leaves_no_identity_in_logs_or_reprs() -> None:
    user = SignedIn("Practitioner/n-42", "Nora Testnurse", frozenset({Role.CLINICIAN}), (), "c")
    assert "n-42" not in repr(user) and "Nora" not in repr(user)
    assert SignedIn.from_json(user.to_json()) == user


def test_a_lead_sees_every_unit_and_a_unit_member_their_own() -> None:
    lead = SignedIn("l", "", frozenset({Role.SAFEGUARDING_LEAD}), (), "c")
    ward = SignedIn("w", "", frozenset({Role.UNIT_MEMBER}), ("ward-7",), "c")
    nurse = SignedIn("n", "", frozenset({Role.CLINICIAN}), ("ward-7",), "c")
    assert lead.sees_unit("ward-9") and ward.sees_unit("ward-7")
    assert not ward.sees_unit("ward-9") and not nurse.sees_unit("ward-7")


@pytest.fixture
def seeded(tmp_path: Path, form_secret: str) -> Callable[..., tuple[TestClient, str]]:
    """An app with sign-in on and a session for ``roles`` made directly in the service."""

    def make(*roles: Role, secure: bool = True) -> tuple[TestClient, str]:
        toml = web_toml() + signin_toml("https://login.example.nhs.uk", cookie_secure=secure)
        service = make_service(tmp_path / "config", toml, FakeClock(TUESDAY_MORNING))
        user = SignedIn("u-1", "Una Test", frozenset(roles), ("ward-7",), "csrf-token-1")
        cookie = "seeded-session-cookie-0123456789abcdef"
        service.open_web_session(cookie, "session", user.to_json(), lasts=SETTINGS.absolute)
        client = TestClient(build_app(service), base_url=SECURE_BASE if secure else LOOPBACK_BASE)
        name = "__Host-thinkfamily" if secure else "thinkfamily"
        client.headers["cookie"] = f"{name}={cookie}"
        return client, cookie

    return make


def test_the_guard_admits_the_named_roles_and_refuses_others_with_403(
    seeded: Callable[..., tuple[TestClient, str]],
) -> None:
    client, _ = seeded(Role.UNIT_MEMBER)
    assert client.get("/worklist").status_code == 200
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 403 and "No access" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"
    csv = client.get("/dashboard.csv")
    assert csv.status_code == 403 and csv.json()["resourceType"] == "OperationOutcome"


def test_a_cookie_that_was_never_issued_is_no_session(
    seeded: Callable[..., tuple[TestClient, str]],
) -> None:
    client, _ = seeded(Role.SAFEGUARDING_LEAD)
    client.headers["cookie"] = "__Host-thinkfamily=made-up"
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    assert client.get("/dashboard.csv").status_code == 401


def test_an_administrator_may_not_record_a_decision(
    seeded: Callable[..., tuple[TestClient, str]],
) -> None:
    client, _ = seeded(Role.ADMINISTRATOR)
    refused = client.get("/form/any-contact")
    assert refused.status_code == 403 and "No access" in refused.text


def test_config_check_warns_when_the_cookie_is_not_secure(tmp_path: Path) -> None:
    toml = signin_toml("https://login.example.nhs.uk", cookie_secure=False)
    trust = write_trust_config(tmp_path / "config", extra_toml=toml)
    found = [
        (i.key, i.severity)
        for i in check_configuration(trust, entry_points=False)
        if i.key.startswith("signin")
    ]
    assert found == [("signin.cookie_secure", "warning")]


def test_sign_in_off_answers_503_and_names_no_setting_value(
    form_secret: str, tmp_path: Path
) -> None:
    service = make_service(tmp_path / "off", web_toml(), FakeClock(TUESDAY_MORNING))
    client = TestClient(build_app(service), base_url=SECURE_BASE)
    off = client.get("/signin")
    assert off.status_code == 503 and "Sign-in is not set up" in off.text
    assert client.get("/smart/launch?iss=x&launch=y").status_code == 503
    assert off.headers["cache-control"] == "no-store"


def test_a_guarded_post_needs_the_session_csrf_token_and_the_body_stays_readable(
    tmp_path: Path, form_secret: str
) -> None:
    from urllib.parse import parse_qs

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from adapters.web.signin import Sessions
    from adapters.web.signin_settings import read_signin_settings

    toml = web_toml() + signin_toml("https://login.example.nhs.uk", cookie_secure=True)
    service = make_service(tmp_path / "config", toml, FakeClock(TUESDAY_MORNING))
    sessions = Sessions(service.context, read_signin_settings(service.config))

    @sessions.require_role(Role.SAFEGUARDING_LEAD)
    async def record(request: Request, user: SignedIn) -> Response:
        form = parse_qs((await request.body()).decode())
        return PlainTextResponse(f"{user.subject}:{form['note'][0]}")

    user = SignedIn("lead-1", "", frozenset({Role.SAFEGUARDING_LEAD}), (), "csrf-token-1")
    service.open_web_session("cookie-1", "session", user.to_json(), lasts=SETTINGS.absolute)
    app = Starlette(routes=[Route("/record", record, methods=["POST"])])
    client = TestClient(app, base_url=SECURE_BASE)
    client.headers["cookie"] = "__Host-thinkfamily=cookie-1"

    assert client.post("/record", data={"note": "a"}).status_code == 403
    assert client.post("/record", data={"note": "a", "csrf": "csrf-token-2"}).status_code == 403
    posted = client.post("/record", data={"note": "a", "csrf": "csrf-token-1"})
    assert posted.status_code == 200 and posted.text == "lead-1:a"
    assert posted.headers["cache-control"] == "no-store"
    by_header = client.post("/record", data={"note": "b"}, headers={"X-CSRF-Token": "csrf-token-1"})
    assert by_header.text == "lead-1:b"
