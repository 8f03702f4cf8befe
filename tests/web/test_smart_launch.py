"""SMART App Launch from the EHR: ``/smart/launch?iss=…&launch=…`` discovers the EHR's
authorization server, signs the professional in with PKCE and opens the form of the contact the
CDS card's ``appContext`` named. The EHR's authorization server is the OpenID provider peer,
which serves ``.well-known/smart-configuration`` and returns the launch context with the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from plugin_core.http import build_app
from tests.peers.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_ENV,
    OidcPeer,
    needs_oidc_peer,
    provider_login,
)
from tests.service.conftest import FakeClock

from .conftest import SECRET, SECRET_ENV, TUESDAY_MORNING, TestClient, contact_doc, web_toml
from .signin_support import SECURE_BASE, SigninPages, make_service

pytestmark = [pytest.mark.integration, needs_oidc_peer]

CONTACT = "smart-launch-1"


@pytest.fixture
def ehr() -> Iterator[OidcPeer]:
    context = {"appContext": json.dumps({"contact_id": CONTACT}), "patient": "p-web"}
    with OidcPeer([f"{SECURE_BASE}/signin/callback"], smart_context=context) as peer:
        yield peer


@pytest.fixture
def launched(tmp_path: Path, ehr: OidcPeer, monkeypatch: pytest.MonkeyPatch) -> SigninPages:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(CLIENT_SECRET_ENV, CLIENT_SECRET)
    toml = web_toml() + (
        "[signin.smart]\n"
        "enabled = true\n"
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret_env = "{CLIENT_SECRET_ENV}"\n'
        f'allowed_issuers = ["{ehr.issuer}"]\n'
    )
    service = make_service(tmp_path / "config", toml, FakeClock(TUESDAY_MORNING))
    client = TestClient(build_app(service), base_url=SECURE_BASE)
    return SigninPages(service, client, ehr)


def test_an_ehr_launch_signs_the_clinician_in_and_opens_the_launched_contacts_form(
    launched: SigninPages, ehr: OidcPeer
) -> None:
    launched.add_contact(contact_doc(CONTACT))
    start = launched.client.get(
        f"/smart/launch?iss={ehr.issuer}&launch=launch-42", follow_redirects=False
    )
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{ehr.issuer}/auth?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["launch"] == ["launch-42"] and query["aud"] == [ehr.issuer]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["launch openid fhirUser"]

    with httpx.Client(base_url=ehr.issuer, timeout=15) as provider:
        back = urlsplit(provider_login(provider, authorize, "nurse"))
    signed_in = launched.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == f"/form/{CONTACT}"
    form = launched.client.get(f"/form/{CONTACT}")
    assert form.status_code == 200 and "Record decision" in form.text
    assert launched.client.get("/worklist").status_code == 403  # a clinician, not a ward member


def test_a_launch_from_an_ehr_the_trust_does_not_allow_is_refused(launched: SigninPages) -> None:
    refused = launched.client.get(
        "/smart/launch?iss=https://elsewhere.example&launch=x", follow_redirects=False
    )
    assert refused.status_code == 403
    assert "may not open ThinkFamily" in refused.text
    assert launched.client.get("/signin", follow_redirects=False).status_code == 503
