"""The JSON API is a built-in plugin like any other: it answers at ``/api`` through the HTTP
routes hook, and a trust or an operator that blocks it has no ``/api`` at all."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core.host.plugins import DISABLED_ENV
from plugin_core.http import build_app
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store

from .conftest import contact_doc

with warnings.catch_warnings():
    # Starlette would rather its test client ran on a successor of httpx; httpx works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

API = "adapters.api.plugin"
TOKEN = "api-plugin-test-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A client for one in-process service, built after the test sets its switches."""
    services: list[Service] = []

    def make() -> TestClient:
        config = load_trust_config(make_config(2525))
        monkeypatch.setenv(config.api_token_env, TOKEN)
        service = Service(config, open_store(f"sqlite:///{tmp_path / 'tf.db'}"), entry_points=False)
        services.append(service)
        return TestClient(build_app(service))

    yield make
    for service in services:
        service.close()


def test_api_routes_come_from_the_api_plugin(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLED_ENV, raising=False)
    api = client()
    posted = api.post("/api/contacts", json=contact_doc("c-plugin-1"), headers=HEADERS)
    assert posted.status_code == 201, posted.text
    listed = api.get("/api/contacts", headers=HEADERS).json()["contacts"]
    assert [c["id"] for c in listed] == ["c-plugin-1"] and listed[0]["state"] == "open"
    plugins = [p["name"] for p in api.get("/healthz").json()["plugins"]]
    assert API in plugins


def test_blocking_the_api_plugin_removes_api_and_keeps_health(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_ENV, API)
    api = client()
    for method, path in [
        ("GET", "/api/contacts"),
        ("POST", "/api/contacts"),
        ("GET", "/api/referrals/r-1"),
        ("GET", "/api/decision-escalations"),
    ]:
        answer = api.request(method, path, headers=HEADERS, json={})
        assert answer.status_code == 404, (method, path)
        assert answer.json()["resourceType"] == "OperationOutcome"
    health = api.get("/healthz")
    assert health.status_code == 200
    assert API not in [p["name"] for p in health.json()["plugins"]]


def test_api_state_filter_naming_no_state_lists_no_contacts(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DISABLED_ENV, raising=False)
    api = client()
    api.post("/api/contacts", json=contact_doc("c-plugin-2"), headers=HEADERS)
    assert api.get("/api/contacts?state=opened", headers=HEADERS).json() == {"contacts": []}
    found = api.get("/api/contacts?state=open", headers=HEADERS).json()["contacts"]
    assert [c["id"] for c in found] == ["c-plugin-2"]
