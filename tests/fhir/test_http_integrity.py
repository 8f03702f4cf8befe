"""Every answer under ``/api`` and ``/cds-services`` is never cached; CDS Hooks bodies too deep
are refused, not a fault; one feedback call cannot flood the audit trail. In process, with the
JSON API and CDS Hooks both served."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Route

from adapters.fhir.cds.feedback import MAX_FEEDBACK_ITEMS
from plugin_core.http import build_app
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from tests.fhir.conftest import Keys, cds_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

AUDIENCE = "http://testserver"
API_TOKEN = "http-integrity-test-token-0123456789"
SERVICE_ID = "thinkfamily-patient-view"


@dataclass
class Served:
    service: Service
    client: Any
    keys: Keys

    def cds(self, method: str, path: str, body: bytes | None = None) -> Any:
        token = cds_token(self.keys.ehr, AUDIENCE)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return self.client.request(method, path, content=body, headers=headers)

    def feedback_entries(self) -> int:
        return sum(e.kind == "cds.feedback" for e in self.service.store.audit_entries())


@pytest.fixture
def served(
    trust_config: Callable[..., Path],
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Served]:
    config = load_trust_config(trust_config(audience=AUDIENCE, keys=keys))
    monkeypatch.setenv(config.api_token_env, API_TOKEN)
    service = Service(config, open_store(f"sqlite:///{tmp_path / 'tf.db'}"), entry_points=False)
    yield Served(service, TestClient(build_app(service)), keys)
    service.close()


def test_every_api_and_cds_hooks_route_answers_no_store(served: Served) -> None:
    routes = [
        r
        for r in served.client.app.routes
        if isinstance(r, Route) and r.path.startswith(("/api", "/cds-services"))
    ]
    assert {r.path for r in routes} >= {
        "/api/contacts",
        "/api/referrals/{referral_id}/cancel",
        "/cds-services",
        "/cds-services/{service_id}/feedback",
    }
    answered: list[tuple[str, str, int]] = []
    for route in routes:
        path = re.sub(r"\{service_id\}", SERVICE_ID, route.path)
        path = re.sub(r"\{[a-z_]+\}", "no-such-id", path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            body = b"{}" if method == "POST" else None
            if path.startswith("/api"):
                calls = [
                    served.client.request(method, path, content=body),
                    served.client.request(
                        method,
                        path,
                        content=body,
                        headers={"Authorization": f"Bearer {API_TOKEN}"},
                    ),
                ]
            else:
                calls = [
                    served.client.request(method, path, content=body),
                    served.cds(method, path, body),
                ]
            for response in calls:
                answered.append((method, path, response.status_code))
                assert response.headers.get("cache-control") == "no-store", (method, path)
    assert {status for _, _, status in answered} >= {200, 401}
    for method, path in [
        ("GET", "/api/no-such-thing"),
        ("DELETE", "/api/contacts"),
        ("GET", "/cds-services/a/b/c"),
        ("PUT", "/cds-services"),
    ]:
        response = served.client.request(method, path)
        assert response.status_code in (404, 405)
        assert response.headers.get("cache-control") == "no-store", (method, path)


@pytest.mark.parametrize("path", [SERVICE_ID, f"{SERVICE_ID}/feedback"])
def test_a_cds_hooks_body_nested_too_deep_is_400_not_a_fault(served: Served, path: str) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 65 + b"1" + b"}" * 65):
        refused = served.cds("POST", f"/cds-services/{path}", body)
        assert refused.status_code == 400, refused.text[:200]
        assert refused.json()["resourceType"] == "OperationOutcome"


def test_one_feedback_call_writes_one_audit_entry_per_card_and_outcome(served: Served) -> None:
    items = [
        {"card": "card-a", "outcome": "accepted"},
        {"card": "card-a", "outcome": "accepted"},
        {"card": "card-a", "outcome": "overridden"},
        {"card": "card-b", "outcome": "accepted"},
    ] * 10
    body = {"feedback": items}
    answer = served.cds("POST", f"/cds-services/{SERVICE_ID}/feedback", _json(body))
    assert answer.status_code == 200, answer.text
    assert served.feedback_entries() == 3


def test_feedback_with_more_items_than_the_limit_is_refused_and_writes_nothing(
    served: Served,
) -> None:
    items = [{"card": f"card-{n}", "outcome": "accepted"} for n in range(MAX_FEEDBACK_ITEMS + 1)]
    refused = served.cds("POST", f"/cds-services/{SERVICE_ID}/feedback", _json({"feedback": items}))
    assert refused.status_code == 413
    assert f"at most {MAX_FEEDBACK_ITEMS} items" in refused.json()["issue"][0]["diagnostics"]
    assert served.feedback_entries() == 0
    allowed = served.cds(
        "POST",
        f"/cds-services/{SERVICE_ID}/feedback",
        _json({"feedback": items[:MAX_FEEDBACK_ITEMS]}),
    )
    assert allowed.status_code == 200 and served.feedback_entries() == MAX_FEEDBACK_ITEMS


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()
