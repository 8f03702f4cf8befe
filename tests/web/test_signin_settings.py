"""The ``[signin]`` section as ``config check`` reports it, the CSRF token of the signed-link
form, and the stylesheets the pages are served with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.web.static_files import (
    FRONTEND_ICONS,
    NHSUK_FRONTEND_VERSION,
    assets,
    stylesheet_urls,
)
from plugin_core.host.check import check_configuration
from plugin_core.http import build_app
from tests.peers.oidc_provider import NODE_MODULES, signin_toml
from tests.peers.service import write_trust_config
from tests.service.conftest import FakeClock

from .conftest import (
    TUESDAY_MORNING,
    Pages,
    TestClient,
    contact_doc,
    sharing_form,
    token_for,
    web_toml,
)
from .signin_support import SECURE_BASE, make_service

ROOT = Path(__file__).resolve().parents[2]


def _errors(toml: str, tmp_path: Path) -> list[tuple[str, str, str]]:
    trust = write_trust_config(tmp_path / "config", extra_toml=toml)
    return [
        (Path(i.file).name, i.key, i.reason)
        for i in check_configuration(trust, entry_points=False)
        if i.severity == "error"
    ]


def test_config_check_names_file_key_and_reason_for_each_signin_fault(tmp_path: Path) -> None:
    toml = (
        "[signin]\n"
        "enabled = true\n"
        'client_secret = "written-in-the-file"\n'
        'issuer = "login.example"\n'
        "idle_minutes = 0\n"
        'cookie_secure = "no"\n'
        "[signin.roles]\n"
        '"TF.Nurse" = "nurse"\n'
        "[signin.smart]\n"
        "enabled = true\n"
    )
    found = {key: reason for _, key, reason in _errors(toml, tmp_path)}
    assert {name for name, _, _ in _errors(toml, tmp_path)} == {"trust.toml"}
    assert set(found) >= {
        "signin.client_secret",
        "signin.issuer",
        "signin.idle_minutes",
        "signin.cookie_secure",
        "signin.roles.TF.Nurse",
    }
    assert "secrets must not be written in the file" in found["signin.client_secret"]
    assert (
        "clinician, unit_member, safeguarding_lead, administrator" in found["signin.roles.TF.Nurse"]
    )
    assert all("written-in-the-file" not in reason for reason in found.values())


def test_config_check_asks_for_what_an_enabled_signin_needs(tmp_path: Path) -> None:
    toml = "[signin]\nenabled = true\n[signin.smart]\nenabled = true\n"
    found = {key: reason for _, key, reason in _errors(toml, tmp_path)}
    assert found == {
        "signin.issuer": "is required when sign-in is enabled",
        "signin.client_id": "is required when sign-in is enabled",
        "signin.roles": "map at least one claim value to a role",
        "signin.smart.client_id": "is required when SMART launch is enabled",
        "signin.smart.allowed_issuers": "name at least one EHR when SMART launch is enabled",
    }


def test_the_example_trust_configuration_has_signin_switched_off_and_valid() -> None:
    text = (ROOT / "config" / "example-trust.toml").read_text()
    assert "[signin]" in text and "enabled = false" in text
    issues = check_configuration(ROOT / "config" / "example-trust.toml", entry_points=False)
    assert not [i for i in issues if i.key.startswith("signin") and i.severity == "error"]


def test_a_link_form_post_without_its_csrf_token_is_refused(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("csrf-link-1"))
    form = sharing_form(token_for(contact_id), "d-" + "a" * 32)
    for csrf in (None, "", "not-the-token"):
        posted = dict(form)
        if csrf is None:
            del posted["csrf"]
        else:
            posted["csrf"] = csrf
        refused = pages.post(contact_id, posted)
        assert refused.status_code == 403
        assert "expired" in refused.text
    assert pages.service.decisions(contact_id) == []
    assert pages.post(contact_id, form).status_code == 303


def test_a_form_link_still_opens_its_one_contact_with_sign_in_switched_on(
    tmp_path: Path, form_secret: str
) -> None:
    """The signed link from a CDS card needs no session, whatever ``[signin]`` says."""
    toml = web_toml() + signin_toml("https://login.example.nhs.uk", cookie_secure=True)
    service = make_service(tmp_path / "config", toml, FakeClock(TUESDAY_MORNING))
    pages = Pages(service, TestClient(build_app(service), base_url=SECURE_BASE))
    contact_id = pages.add_contact(contact_doc("link-without-session-1"))
    opened = pages.client.get(pages.form_url(contact_id))
    assert opened.status_code == 200 and "Record decision" in opened.text
    form = sharing_form(token_for(contact_id), "d-" + "b" * 32)
    assert pages.post(contact_id, form).status_code == 303
    other = pages.add_contact(contact_doc("link-without-session-2"))
    assert pages.client.get(pages.form_url(other, token_for(contact_id))).status_code == 403
    without = pages.client.get(f"/form/{other}", follow_redirects=False)
    assert without.status_code == 303 and without.headers["location"].startswith("/signin?next=")


def test_the_stylesheets_are_served_with_long_caching_and_no_script(pages: Pages) -> None:
    for url in stylesheet_urls():
        served = pages.client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/css; charset=utf-8"
        assert "immutable" in served.headers["cache-control"]
        assert served.content == assets()[url.removeprefix("/static/")].body
    assert stylesheet_urls()[0] == f"/static/nhsuk-frontend-{NHSUK_FRONTEND_VERSION}.min.css"
    assert pages.client.get("/static/../render.py").status_code == 404
    assert pages.client.get("/static/style.css").status_code == 404
    icon = pages.client.get("/assets/images/nhsuk-icon-arrow-up-down.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert pages.client.get("/assets/images/favicon.ico").status_code == 404


@pytest.mark.skipif(
    not (NODE_MODULES / "nhsuk-frontend").is_dir(),
    reason="run `npm ci` in tests/peers/oidc to install the pinned nhsuk-frontend package",
)
def test_the_shipped_nhsuk_stylesheet_is_the_pinned_npm_package_byte_for_byte() -> None:
    package = NODE_MODULES / "nhsuk-frontend"

    version = json.loads((package / "package.json").read_text())["version"]
    assert version == NHSUK_FRONTEND_VERSION
    pinned = json.loads((ROOT / "tests" / "peers" / "oidc" / "package.json").read_text())
    assert pinned["dependencies"]["nhsuk-frontend"] == NHSUK_FRONTEND_VERSION
    shipped = ROOT / "adapters" / "web" / "static" / "nhsuk-frontend.min.css"
    published = package / "dist" / "nhsuk" / "nhsuk-frontend.min.css"
    assert shipped.read_bytes() == published.read_bytes()
    for icon in FRONTEND_ICONS:
        shipped_icon = ROOT / "adapters" / "web" / "static" / "images" / icon
        assert (
            shipped_icon.read_bytes() == (package / "dist/nhsuk/assets/images" / icon).read_bytes()
        )
    notice = (ROOT / "adapters" / "web" / "static" / "nhsuk-frontend.txt").read_text()
    assert f"version: {NHSUK_FRONTEND_VERSION}" in notice and "MIT" in notice
