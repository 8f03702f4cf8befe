"""An OpenID provider on loopback for the sign-in tests: node-oidc-provider
(tests/peers/oidc/server.mjs), with one synthetic user per role, started with a bounded wait and
stopped after. It also serves ``.well-known/smart-configuration`` for SMART launch tests.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.peers.node_peer import start_node_peer, stop_node_peer

PEER_DIR = Path(__file__).resolve().parent / "oidc"
NODE_MODULES = PEER_DIR / "node_modules"
CLIENT_ID = "thinkfamily"
CLIENT_SECRET = "thinkfamily-test-client-secret"
CLIENT_SECRET_ENV = "TF_TEST_OIDC_SECRET"

USERS = {
    "nurse": "nurse-password",
    "ward": "ward-password",
    "lead": "lead-password",
    "admin": "admin-password",
    "visitor": "visitor-password",
}
"""Login to password of the provider's test users (see server.mjs for their claims)."""

ROLES_TOML = """[signin.roles]
"tf-clinician" = "clinician"
"tf-unit" = "unit_member"
"tf-lead" = "safeguarding_lead"
"tf-admin" = "administrator"
"""

needs_oidc_peer = pytest.mark.skipif(
    not (NODE_MODULES / "oidc-provider").is_dir(),
    reason="run `npm ci` in tests/peers/oidc to install the OpenID provider peer",
)


class OidcPeer:
    """One Node process running the provider on a free loopback port."""

    def __init__(self, redirect_uris: list[str], smart_context: Mapping[str, Any] | None = None):
        self.redirect_uris = redirect_uris
        self.smart_context = dict(smart_context or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> OidcPeer:
        env = {
            "PEER_CLIENT_ID": CLIENT_ID,
            "PEER_CLIENT_SECRET": CLIENT_SECRET,
            "PEER_REDIRECT_URIS": ",".join(self.redirect_uris),
            "PEER_SMART_CONTEXT": json.dumps(self.smart_context),
        }
        self.process, self.port = start_node_peer(
            PEER_DIR, env, name="OpenID provider", timeout=timeout, stderr=subprocess.DEVNULL
        )
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        stop_node_peer(self.process)
        self.process = None

    def __enter__(self) -> OidcPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def signin_toml(issuer: str, *, cookie_secure: bool, extra: str = "") -> str:
    """A ``[signin]`` section for the peer's client and its test users' role claims."""
    return (
        "[signin]\n"
        "enabled = true\n"
        f'issuer = "{issuer}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret_env = "{CLIENT_SECRET_ENV}"\n'
        'scopes = ["openid", "profile", "thinkfamily"]\n'
        'role_claim = "tf_roles"\n'
        'units_claim = "tf_units"\n'
        f"cookie_secure = {'true' if cookie_secure else 'false'}\n"
        f"{extra}"
        f"{ROLES_TOML}"
    )


_FORM = re.compile(r'<form method="post" action="([^"]+)"')


def provider_login(
    provider: httpx.Client, authorize_url: str, login: str, password: str | None = None
) -> str:
    """Sign ``login`` in at the provider, starting from the authorization URL the service
    redirected to; the URL the provider sends the browser back to (the service's callback)."""
    response = provider.get(authorize_url)
    for _ in range(10):
        if response.status_code in (302, 303) and not response.headers["location"].startswith(
            ("/", provider_base(provider))
        ):
            return urljoin(str(response.url), response.headers["location"])
        if response.status_code in (302, 303):
            response = provider.get(urljoin(str(response.url), response.headers["location"]))
            continue
        found = _FORM.search(response.text)
        assert found, f"no login form at the provider: {response.status_code}"
        response = provider.post(
            urljoin(str(response.url), found.group(1)),
            data={"login": login, "password": password or USERS[login]},
        )
    raise AssertionError("the provider did not send the browser back")


def provider_base(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")
