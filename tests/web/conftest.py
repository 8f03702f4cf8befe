"""Fixtures for the clinician pages: a synthetic patient, the form secret, an in-process app."""

from __future__ import annotations

import itertools
import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright
from starlette.exceptions import StarletteDeprecationWarning

from adapters.web.form_access import link_csrf
from adapters.web.signin import SignedIn
from adapters.web.signin_settings import Role
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.http import build_app
from plugin_core.links import make_token
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.oidc_provider import CLIENT_SECRET, CLIENT_SECRET_ENV, OidcPeer, signin_toml
from tests.peers.service import ServiceProcess, write_trust_config
from tests.service.conftest import TEST_AUTHORITIES, FakeClock
from tests.web.browser_support import (
    CHROMIUM_ARGS,
    BrowserPages,
    artefact_dir,
    chromium_path,
    open_pages,
)
from tests.web.signin_support import LOOPBACK_BASE, SECURE_BASE, SigninPages, make_service

with warnings.catch_warnings():
    # Starlette would rather its test client ran on a successor of httpx; httpx is what the
    # project pins, and it works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

# Synthetic identifying values used by these tests; the log privacy scan looks for each.
PATIENT_NAME = "Ottoline Formtest"
PATIENT_NHS = "9990002223"
PATIENT_DOB = "1979-11-05"
PATIENT_POSTCODE = "ZZ1 7WB"
CHILD_NAME = "Barnaby Formtest"
CHILD_DOB = "2015-04-12"
OTHER_CHILD_NAME = "Clementine Formtest"
OTHER_CHILD_DOB = "2021-08-23"
IDENTIFIERS = (
    PATIENT_NAME,
    PATIENT_NHS,
    PATIENT_DOB,
    PATIENT_POSTCODE,
    CHILD_NAME,
    CHILD_DOB,
    OTHER_CHILD_NAME,
    OTHER_CHILD_DOB,
)

SECRET_ENV = "TF_TEST_FORM_SECRET"
SECRET = "test-form-secret-0123456789-abcdefghijklmnop"
NURSE = "Practitioner/nurse-42"
TUESDAY_MORNING = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)

_ids = itertools.count(1)


def web_toml(*, base_url: str = "", frame_ancestors: tuple[str, ...] = ()) -> str:
    lines = ["[web]", f'secret_env = "{SECRET_ENV}"', "link_ttl_minutes = 60"]
    if base_url:
        lines.append(f'base_url = "{base_url}"')
    if frame_ancestors:
        lines.append("frame_ancestors = [" + ", ".join(f'"{a}"' for a in frame_ancestors) + "]")
    return "\n".join(lines) + "\n"


def contact_doc(
    contact_id: str | None = None,
    *,
    postcode: str = PATIENT_POSTCODE,
    child_name: str = CHILD_NAME,
    pregnant: bool = False,
) -> dict[str, Any]:
    return {
        "id": contact_id or f"web-{next(_ids)}",
        "occurred_at": "2026-03-03T09:30:00+00:00",
        "patient": {
            "id": "p-web",
            "nhs_number": PATIENT_NHS,
            "name": PATIENT_NAME,
            "birth_date": PATIENT_DOB,
            "postcode": postcode,
        },
        "encounter": {"id": "e-web", "kind": "emergency"},
        "household": [
            {
                "id": "k-1",
                "name": child_name,
                "birth_date": CHILD_DOB,
                "relationship": "child",
                "lives_with_patient": True,
            },
            {
                "id": "k-2",
                "name": OTHER_CHILD_NAME,
                "birth_date": OTHER_CHILD_DOB,
                "relationship": "stepchild",
                "lives_with_patient": False,
            },
        ],
        "indicators": [{"kind": "substance_misuse"}, {"kind": "domestic_abuse"}],
        "pregnant": pregnant,
    }


def sharing_form(token: str, decision_id: str, **changes: Any) -> dict[str, Any]:
    """A complete, valid sharing decision at level 3, as the browser would post it."""
    return {
        "t": token,
        "csrf": csrf_for(token),
        "decision_id": decision_id,
        "share": "yes",
        "level_of_need": "3",
        "reasons": "Parent admitted after an overdose; children at home with no other carer.",
        "what_shared": "Reason for admission and the children's ages.",
        "lawful_basis": "public_task",
        "consent": "not_sought",
        "consent_not_sought_reason": "Asking would delay protecting the children.",
        "child_refs": ["k-1", "k-2"],
        "decided_by.phone": "020 7946 0123",
    } | changes


def csrf_for(token: str) -> str:
    """The CSRF token the form shows beside a link's token."""
    return link_csrf(SECRET.encode(), token)


def token_for(contact_id: str, professional: str = NURSE) -> str:
    return make_token(contact_id, professional, secret=SECRET.encode())


class Pages:
    """An in-process service and its app, reached through Starlette's test client."""

    def __init__(self, service: Service, client: TestClient) -> None:
        self.service = service
        self.client = client
        self.clock: FakeClock = service.clock  # type: ignore[assignment]

    def add_contact(self, doc: dict[str, Any]) -> str:
        contact = contact_from_dict(doc, self.service.config.code_lists)
        self.service.accept_contact(contact)
        return contact.id

    def form_url(self, contact_id: str, token: str | None = None) -> str:
        from urllib.parse import quote

        return f"/form/{quote(contact_id, safe='')}?t={token or token_for(contact_id)}"

    def post(self, contact_id: str, data: dict[str, Any], **headers: str) -> Any:
        from urllib.parse import quote

        return self.client.post(
            f"/form/{quote(contact_id, safe='')}",
            data=data,
            headers=headers,
            follow_redirects=False,
        )


@pytest.fixture
def form_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


@pytest.fixture
def make_pages(tmp_path: Path, form_secret: str) -> Callable[..., Pages]:
    made: list[Service] = []

    def make(
        *,
        authorities: str = TEST_AUTHORITIES,
        now: datetime = TUESDAY_MORNING,
        **web: Any,
    ) -> Pages:
        folder = tmp_path / f"config-{len(made)}"
        config = load_trust_config(
            write_trust_config(folder, extra_toml=web_toml(**web), authorities=authorities)
        )
        service = Service(
            config,
            open_store(f"sqlite:///{folder / 'tf.db'}"),
            entry_points=False,
            clock=FakeClock(now),
        )
        made.append(service)
        # No lifespan: the app's listeners and outbox worker are not needed for the pages.
        return Pages(service, TestClient(build_app(service)))

    return make


@pytest.fixture
def pages(make_pages: Callable[..., Pages]) -> Pages:
    return make_pages()


# Signed-in pages with a session made directly in the service ---------------------------------


@dataclass
class Person:
    """A browser signed in as one person: its client carries their session cookie."""

    client: TestClient
    csrf: str


class SessionPages(Pages):
    """An in-process service with sign-in on (at an issuer never reached): people are signed in
    by sessions made directly in the service, with the roles and units a test names."""

    def person(self, *roles: Role, units: tuple[str, ...] = (), subject: str = NURSE) -> Person:
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(16)
        user = SignedIn(subject, "Una Test", frozenset(roles), units, csrf)
        self.service.open_web_session(cookie, "session", user.to_json(), lasts=timedelta(hours=1))
        client = TestClient(build_app(self.service), base_url=SECURE_BASE)
        client.headers["cookie"] = f"__Host-thinkfamily={cookie}"
        return Person(client, csrf)

    def anonymous(self) -> TestClient:
        return TestClient(build_app(self.service), base_url=SECURE_BASE)


@pytest.fixture
def make_session_pages(tmp_path: Path, form_secret: str) -> Callable[..., SessionPages]:
    made: list[SessionPages] = []

    def make(
        *, authorities: str = TEST_AUTHORITIES, now: datetime = TUESDAY_MORNING
    ) -> SessionPages:
        folder = tmp_path / f"signed-{len(made)}"
        toml = web_toml() + signin_toml("https://login.example.nhs.uk", cookie_secure=True)
        config = load_trust_config(
            write_trust_config(folder, extra_toml=toml, authorities=authorities)
        )
        service = Service(
            config,
            open_store(f"sqlite:///{folder / 'tf.db'}"),
            entry_points=False,
            clock=FakeClock(now),
        )
        made.append(SessionPages(service, TestClient(build_app(service), base_url=SECURE_BASE)))
        return made[-1]

    return make


# Sign-in through the OpenID provider peer ---------------------------------------------------


@pytest.fixture(scope="module")
def oidc_peer() -> Iterator[OidcPeer]:
    uris = [f"{SECURE_BASE}/signin/callback", f"{LOOPBACK_BASE}/signin/callback"]
    with OidcPeer(uris) as peer:
        yield peer


@pytest.fixture
def make_signin(
    tmp_path: Path, oidc_peer: OidcPeer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., SigninPages]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(CLIENT_SECRET_ENV, CLIENT_SECRET)

    def make(
        *,
        secure: bool = True,
        extra: str = "",
        folder: str = "config",
        clock: FakeClock | None = None,
        now: datetime = TUESDAY_MORNING,
    ) -> SigninPages:
        toml = web_toml() + signin_toml(oidc_peer.issuer, cookie_secure=secure, extra=extra)
        service = make_service(tmp_path / folder, toml, clock or FakeClock(now))
        base = SECURE_BASE if secure else LOOPBACK_BASE
        return SigninPages(service, TestClient(build_app(service), base_url=base), oidc_peer)

    return make


# The pages served by ``thinkfamily serve``, in Debian's Chromium ------------------------------


@dataclass
class Served:
    """A running service whose pages sign in at its own OpenID provider peer."""

    service: ServiceProcess
    peer: OidcPeer

    @property
    def url(self) -> str:
        return self.service.url


@pytest.fixture
def serve_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Served]]:
    """Starts ``thinkfamily serve`` with ``[signin]`` pointing at a fresh provider peer (the
    cookie without ``Secure``: plain http on loopback); ``extra_toml`` adds sections, say an
    outbox, and ``authorities`` replaces the test directory. Everything started is stopped after the test."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(CLIENT_SECRET_ENV, CLIENT_SECRET)
    started: list[ServiceProcess | OidcPeer] = []

    def start(extra_toml: str = "", authorities: str = TEST_AUTHORITIES) -> Served:
        folder = tmp_path / f"served-{len(started)}"
        process = ServiceProcess(
            folder / "config" / "trust.toml",
            f"sqlite:///{folder / 'tf.db'}",
            folder / "logs",
            name="web",
        )
        peer = OidcPeer([f"{process.url}/signin/callback"]).start()
        started.append(peer)
        toml = web_toml() + signin_toml(peer.issuer, cookie_secure=False) + extra_toml
        write_trust_config(folder / "config", extra_toml=toml, authorities=authorities)
        process.start()
        started.append(process)
        return Served(process, peer)

    yield start
    for thing in reversed(started):
        thing.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browse(
    chromium: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserPages]]:
    """Opens a browser context on a service's pages: ``browse(url, phone=False)``. Each page
    visited through it is screenshotted into ``test-artefacts/browser/<test>/`` and checked
    with axe-core."""
    artefacts = artefact_dir(request.node.name)
    opened: list[BrowserPages] = []

    def open_(base_url: str, *, phone: bool = False) -> BrowserPages:
        pages = open_pages(chromium, base_url, artefacts, phone=phone)
        opened.append(pages)
        return pages

    yield open_
    for pages in opened:
        pages.context.close()
