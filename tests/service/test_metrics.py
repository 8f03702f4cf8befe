"""``/metrics``: Prometheus text for ingest, requests, commits and the outbox, with labels from
fixed sets only (never an id or a patient's details), readable only with the API token unless
the trust opens it to loopback."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import StarletteDeprecationWarning

from plugin_core import metrics
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.http import build_app
from plugin_core.metrics_route import label_of
from plugin_core.model import ReferralStatus
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.service import write_trust_config

from .conftest import IDENTIFIERS, TEST_AUTHORITIES, FakeClock, contact_doc

with warnings.catch_warnings():
    # Starlette would rather its test client ran on a successor of httpx; httpx works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "metrics-test-token-0123456789abcdefghij"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CONTACT_IDS = ("c-metrics-ZQ81", "c-metrics-ZQ82")


def _service(tmp_path: Path, api: str = "") -> Service:
    config = write_trust_config(tmp_path / "config", extra_toml=api, authorities=TEST_AUTHORITIES)
    return Service(
        load_trust_config(config),
        open_store(f"sqlite:///{tmp_path / 'metrics.db'}"),
        entry_points=False,
        clock=FakeClock(NOW),
    )


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("THINKFAMILY_API_TOKEN", TOKEN)
    made = _service(tmp_path)
    yield made
    made.store.shutdown()


def _traffic(service: Service, client: TestClient) -> None:
    """Contacts by the API and by HL7, reads by id, a path that matches no route, counters."""
    for contact_id in CONTACT_IDS:
        assert client.post("/api/contacts", json=contact_doc(contact_id), headers=AUTH).is_success
        assert client.get(f"/api/contacts/{contact_id}", headers=AUTH).status_code == 200
    assert client.get("/api/contacts/c-metrics-unknown-77", headers=AUTH).status_code == 404
    assert client.get("/no/such/c-metrics-path-ZQ84").status_code == 404
    codes = service.config.code_lists
    hl7 = replace(contact_from_dict(contact_doc("c-metrics-hl7-ZQ83"), codes), source="hl7")
    service.accept_contacts([(hl7, "NORTHGEN|MSG-ZQ83")])
    service.accept_contacts([(hl7, "NORTHGEN|MSG-ZQ83")])
    service.count("hl7.rejected")
    service.count(f"plugin.{IDENTIFIERS[0]}")  # a plugin's own name: counted as other


def _allowed(app_routes: set[str]) -> dict[str, set[str]]:
    statuses = {s.value for s in ReferralStatus}
    return {
        "route": app_routes | {"unmatched"},
        "method": set(metrics.HTTP_METHODS),
        "status": {f"{n}xx" for n in range(1, 6)} | statuses,
        "event": set(metrics.EVENTS),
        "outcome": set(metrics.HL7_OUTCOMES) | statuses,
        "source": set(metrics.SOURCES),
        "operation": set(metrics.COMMITS),
    }


def test_metrics_after_synthetic_traffic_hold_no_identifier_and_only_fixed_labels(
    service: Service,
) -> None:
    app = build_app(service)
    client = TestClient(app)
    _traffic(service, client)
    scraped = client.get("/metrics", headers=AUTH)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    ids = (*CONTACT_IDS, "c-metrics-hl7-ZQ83", "MSG-ZQ83", "unknown-77", "path-ZQ84")
    for value in (*IDENTIFIERS, *ids):
        assert value not in text
    allowed = _allowed({label_of(getattr(r, "path", "")) for r in app.routes})
    seen: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, value in sample.labels.items():
                if name in ("le", "quantile"):
                    continue
                assert name in allowed, name
                assert value in allowed[name] | {metrics.OTHER}, (name, value)
                seen.setdefault(name, set()).add(value)
    assert {"/api/contacts", "/api/contacts/{contact_id}", "unmatched"} <= seen["route"]
    assert {"hl7", "api"} <= seen["source"]
    assert {"accepted", "duplicate", "rejected"} <= seen["outcome"]
    assert metrics.OTHER in seen["event"] and "contacts" in seen["operation"]
    assert "thinkfamily_outbox_queue_depth" in text
    assert "thinkfamily_escalations_open" in text


def test_metrics_need_the_api_token_by_default(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(build_app(service), client=("127.0.0.1", 40000))
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401
    monkeypatch.delenv("THINKFAMILY_API_TOKEN")
    assert client.get("/metrics", headers=AUTH).status_code == 503


def test_metrics_open_to_loopback_only_when_the_trust_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINKFAMILY_API_TOKEN", TOKEN)
    service = _service(
        tmp_path, '[api]\ntoken_env = "THINKFAMILY_API_TOKEN"\nmetrics = "loopback"\n'
    )
    try:
        app = build_app(service)
        local: Any = TestClient(app, client=("127.0.0.1", 40000))
        assert local.get("/metrics").status_code == 200
        remote: Any = TestClient(app, client=("192.0.2.10", 40000))
        assert remote.get("/metrics").status_code == 401
        assert remote.get("/metrics", headers=AUTH).status_code == 200
    finally:
        service.store.shutdown()
