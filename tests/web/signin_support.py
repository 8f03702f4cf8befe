"""Signed-in pages in process: the service's app behind Starlette's test client, signing in
through the real OpenID provider peer on loopback.

The test client plays the browser for the service's own pages and an httpx client plays it at
the provider, so a sign-in follows the same redirects a browser would.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.oidc_provider import OidcPeer, provider_login
from tests.peers.service import write_trust_config
from tests.service.conftest import TEST_AUTHORITIES, FakeClock

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECURE_BASE = "https://testserver"
LOOPBACK_BASE = "http://127.0.0.1"


class SigninPages:
    """One service (and its app) configured to sign in at the peer."""

    def __init__(self, service: Service, client: TestClient, peer: OidcPeer) -> None:
        self.service = service
        self.client = client
        self.peer = peer
        self.clock: FakeClock = service.clock  # type: ignore[assignment]

    def add_contact(self, doc: dict[str, Any]) -> str:
        contact = contact_from_dict(doc, self.service.config.code_lists)
        self.service.accept_contact(contact)
        return contact.id

    def begin(self, target: str = "/") -> httpx.Response:
        return self.client.get(f"/signin?next={target}", follow_redirects=False)

    def sign_in(self, login: str, target: str = "/") -> httpx.Response:
        """Sign ``login`` in; the service's answer to the provider's redirect back."""
        started = self.begin(target)
        assert started.status_code == 303, started.text
        with httpx.Client(base_url=self.peer.issuer, timeout=15) as provider:
            back = provider_login(provider, started.headers["location"], login)
        parts = urlsplit(back)
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def make_service(folder: Path, toml: str, clock: FakeClock) -> Service:
    config = load_trust_config(
        write_trust_config(folder, extra_toml=toml, authorities=TEST_AUTHORITIES)
    )
    return Service(
        config, open_store(f"sqlite:///{folder / 'tf.db'}"), entry_points=False, clock=clock
    )


def set_cookie_header(response: httpx.Response, name: str) -> str:
    """The one Set-Cookie header for the cookie ``name``."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def cookie_attributes(header: str) -> dict[str, Any]:
    name_value, *attributes = (part.strip() for part in header.split(";"))
    found: dict[str, Any] = {"name": name_value.split("=", 1)[0]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value or True
    return found
