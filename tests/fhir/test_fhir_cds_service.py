"""The CDS Hooks service as an EHR meets it: JWT checks, bad bodies, prefetch, 412, feedback.

Runs the real ``thinkfamily serve`` on loopback; the Medplum client test drives it with
Medplum's own CDS Hooks client (``@medplum/core`` 5.x on Node 22).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from tests.fhir.conftest import (
    EHR_ISS,
    EHR_KID,
    NODE22,
    PEER_DIR,
    Keys,
    MedplumPeer,
    as_collection,
    cds_token,
    ec_key,
    fhir_service,
    household_bundle,
    load_household,
    needs_node_peer,
    prefetch_searches,
    rsa_key,
)
from tests.peers.service import ServiceProcess

pytestmark = [pytest.mark.integration, needs_node_peer]

SERVICE_ID = "thinkfamily-patient-view"


@pytest.fixture(scope="module")
def service(
    medplum: MedplumPeer, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    with fhir_service(tmp_path_factory.mktemp("cds"), medplum, keys, name="cds") as proc:
        yield proc


def prefetched_call(tag: str = "P") -> dict[str, Any]:
    """A patient-view request whose prefetch holds everything the service asks for."""
    doc = as_collection(household_bundle(tag))
    resources = [e["resource"] for e in doc["entry"]]
    patient = resources[0]
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/prac-7", "patientId": patient["id"]},
        "prefetch": {"patient": patient, **prefetch_searches(resources)},
    }


def call(
    service: ServiceProcess, body: Any, token: str | None = None, path: str = SERVICE_ID, **kw: Any
) -> requests.Response:
    url = f"{service.url}/cds-services/{path}"
    token = token if token is not None else cds_token_for(service, url)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        **kw.pop("headers", {}),
    }
    return requests.post(url, data=data, headers=headers, timeout=30)


_KEYS: dict[str, Keys] = {}


def cds_token_for(service: ServiceProcess, url: str, **claims: Any) -> str:
    return cds_token(_KEYS["keys"].ehr, url, **claims)


@pytest.fixture(autouse=True)
def _remember_keys(keys: Keys) -> None:
    _KEYS["keys"] = keys


def assert_outcome(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


# Authentication ------------------------------------------------------------------------------


def test_valid_token_with_prefetch_gets_cards(service: ServiceProcess) -> None:
    response = call(service, prefetched_call())
    assert response.status_code == 200, response.text
    codes = [c["source"]["topic"]["code"] for c in response.json()["cards"]]
    assert "consider-children" in codes


def test_discovery_lists_both_hooks_with_prefetch_templates(service: ServiceProcess) -> None:
    url = f"{service.url}/cds-services"
    response = requests.get(
        url, headers={"Authorization": f"Bearer {cds_token_for(service, url)}"}, timeout=10
    )
    assert response.status_code == 200
    services = {s["hook"]: s for s in response.json()["services"]}
    assert set(services) == {"patient-view", "encounter-start"}
    assert (
        services["encounter-start"]["prefetch"]["encounter"] == "Encounter/{{context.encounterId}}"
    )
    assert "relatedPersons" in services["patient-view"]["prefetch"]


def hmac_token(keys: Keys, url: str) -> str:
    """HS256 signed with the issuer's public key as the secret: the classic confusion attack."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": EHR_KID}
    claims = {
        "iss": EHR_ISS,
        "sub": "ehr-client-1",
        "aud": url,
        "exp": now + 60,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    signing_input = b".".join(_b64(json.dumps(x).encode()) for x in (header, claims))
    secret = json.dumps(keys.ehr.public_jwk).encode()
    return (
        signing_input + b"." + _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
    ).decode()


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _url(service: ServiceProcess) -> str:
    return f"{service.url}/cds-services/{SERVICE_ID}"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda k, url: cds_token(k.ehr, url, issued_ago=600, lifetime=300), id="expired"
        ),
        pytest.param(
            lambda k, url: cds_token(k.ehr, "https://other.example.test/cds-services"),
            id="wrong-audience",
        ),
        pytest.param(lambda k, url: cds_token(ec_key(EHR_KID + "-unknown"), url), id="unknown-key"),
        pytest.param(lambda k, url: cds_token(ec_key(EHR_KID), url), id="bad-signature"),
        pytest.param(
            lambda k, url: jwt.encode(
                {
                    "iss": EHR_ISS,
                    "aud": url,
                    "exp": int(time.time()) + 60,
                    "iat": int(time.time()),
                    "jti": str(uuid.uuid4()),
                },
                None,
                algorithm="none",
                headers={"kid": EHR_KID},
            ),
            id="alg-none",
        ),
        pytest.param(lambda k, url: hmac_token(k, url), id="hmac-with-public-key"),
        pytest.param(
            lambda k, url: cds_token(k.ehr, url, iss="https://stranger.example.test"),
            id="untrusted-issuer",
        ),
        pytest.param(lambda k, url: cds_token(k.ehr, url, lifetime=3600), id="too-long-lived"),
        pytest.param(
            lambda k, url: cds_token(
                k.ehr, url, headers={"jku": "https://attacker.example.test/jwks"}
            ),
            id="foreign-jku",
        ),
        pytest.param(lambda k, url: cds_token(rsa_key(EHR_KID), url), id="rsa-key-not-in-jwks"),
        pytest.param(lambda k, url: "not-a-jwt", id="garbage"),
    ],
)
def test_bad_token_is_refused_with_401(
    service: ServiceProcess, keys: Keys, make_token: Any
) -> None:
    response = call(service, prefetched_call(), token=make_token(keys, _url(service)))
    body = assert_outcome(response, 401)
    assert body["issue"][0]["code"] == "login"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_authorization_is_refused_with_401(service: ServiceProcess) -> None:
    response = requests.post(_url(service), json=prefetched_call(), timeout=10)
    assert_outcome(response, 401)


def test_replayed_jti_is_refused_with_401(service: ServiceProcess, keys: Keys) -> None:
    token = cds_token(keys.ehr, _url(service))
    assert call(service, prefetched_call(), token=token).status_code == 200
    assert_outcome(call(service, prefetched_call(), token=token), 401)


def test_jti_replayed_to_another_instance_on_the_same_database_is_refused(
    service: ServiceProcess, keys: Keys
) -> None:
    # A second instance with the same configuration and database, as behind a load balancer.
    second = ServiceProcess(service.config, service.db_url, service.log_dir, name="cds-second")
    second.start()
    try:
        token = cds_token(keys.ehr, _url(service))
        assert call(service, prefetched_call(), token=token).status_code == 200
        assert_outcome(call(second, prefetched_call(), token=token), 401)
    finally:
        second.stop()


def test_a_token_spent_on_a_call_refused_for_its_body_cannot_be_used_again(
    service: ServiceProcess, keys: Keys
) -> None:
    token = cds_token(keys.ehr, _url(service))
    assert_outcome(call(service, b'{"hook": "patient-view",', token=token), 400)
    assert_outcome(call(service, prefetched_call(), token=token), 401)


def test_an_unauthenticated_call_with_a_body_of_the_wrong_type_gets_401(
    service: ServiceProcess,
) -> None:
    response = requests.post(
        _url(service), data=b"hook=patient-view", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert_outcome(response, 401)


def test_cds_calls_are_timed_by_route_template_never_by_patient(service: ServiceProcess) -> None:
    body = prefetched_call("M")
    assert call(service, body).status_code == 200
    scraped = requests.get(
        f"{service.url}/metrics",
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=10,
    )
    assert scraped.status_code == 200
    assert 'route="/cds-services/{service_id}"' in scraped.text
    assert body["context"]["patientId"] not in scraped.text
    assert body["hookInstance"] not in scraped.text


# Bad bodies ----------------------------------------------------------------------------------


def test_malformed_json_gets_400_with_an_operation_outcome(service: ServiceProcess) -> None:
    body = assert_outcome(call(service, b'{"hook": "patient-view",'), 400)
    assert "not valid JSON" in body["issue"][0]["diagnostics"]


def test_wrong_resource_type_in_prefetch_gets_400_naming_the_key(service: ServiceProcess) -> None:
    request = prefetched_call()
    request["prefetch"]["patient"] = {"resourceType": "Practitioner", "id": "x"}
    body = assert_outcome(call(service, request), 400)
    assert body["issue"][0]["diagnostics"].startswith("$.prefetch.patient")


def test_wrong_resource_inside_a_prefetched_search_gets_400(service: ServiceProcess) -> None:
    request = prefetched_call()
    request["prefetch"]["conditions"]["entry"].append(
        {"resource": {"resourceType": "Patient", "id": "z"}}
    )
    body = assert_outcome(call(service, request), 400)
    assert "$.prefetch.conditions.entry[" in body["issue"][0]["diagnostics"]


def test_wrong_hook_for_the_service_gets_400(service: ServiceProcess) -> None:
    request = prefetched_call()
    request["hook"] = "order-sign"
    assert_outcome(call(service, request), 400)


def test_malformed_resource_in_prefetch_names_the_path_and_no_value(
    service: ServiceProcess,
) -> None:
    request = prefetched_call()
    request["prefetch"]["patient"]["birthDate"] = "01/05/1988"
    body = assert_outcome(call(service, request), 400)
    text = body["issue"][0]["diagnostics"]
    assert text.startswith("$.prefetch.patient.birthDate") and "1988" not in text


def test_oversized_body_gets_413(service: ServiceProcess) -> None:
    request = prefetched_call()
    request["padding"] = "x" * 1_100_000
    assert_outcome(call(service, request), 413)


def test_body_that_is_not_json_media_gets_415(service: ServiceProcess) -> None:
    assert_outcome(call(service, prefetched_call(), headers={"Content-Type": "text/plain"}), 415)


def test_unknown_service_gets_404(service: ServiceProcess) -> None:
    assert_outcome(call(service, prefetched_call(), path="no-such-service"), 404)


# Prefetch and the FHIR server ----------------------------------------------------------------


def test_missing_prefetch_is_read_from_the_fhir_server(
    service: ServiceProcess, medplum: MedplumPeer
) -> None:
    patient, _ = load_household(medplum, "Fetch")
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/p", "patientId": patient},
    }
    response = call(service, request)
    assert response.status_code == 200, response.text
    assert "consider-children" in [c["source"]["topic"]["code"] for c in response.json()["cards"]]


def test_data_neither_prefetched_nor_on_the_server_gets_412(service: ServiceProcess) -> None:
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/p", "patientId": "no-such-patient"},
    }
    body = assert_outcome(call(service, request), 412)
    assert "Patient" in body["issue"][0]["diagnostics"]


# Feedback ------------------------------------------------------------------------------------


def test_feedback_on_accepted_and_overridden_cards_is_audited(
    service: ServiceProcess, tmp_path: Any
) -> None:
    response = call(service, prefetched_call())
    cards = response.json()["cards"]
    accepted, overridden = cards[0], cards[-1]
    feedback = {
        "feedback": [
            {
                "card": accepted["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [
                    {"id": (accepted.get("suggestions") or [{"uuid": "none"}])[0]["uuid"]}
                ],
                "outcomeTimestamp": "2026-03-01T10:05:00Z",
            },
            {
                "card": overridden["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": overridden["overrideReasons"][0],
                    "userComment": "synthetic comment",
                },
                "outcomeTimestamp": "2026-03-01T10:06:00Z",
            },
        ]
    }
    answer = call(service, feedback, path=f"{SERVICE_ID}/feedback")
    assert answer.status_code == 200, answer.text
    db = service.db_url.removeprefix("sqlite:///")

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM audit").fetchall()
    text = "\n".join(str(r) for r in rows)
    assert accepted["uuid"] in text and overridden["uuid"] in text
    assert "already-considered" in text
    assert "synthetic comment" not in text


def test_feedback_with_an_unknown_outcome_gets_400(service: ServiceProcess) -> None:
    bad = {"feedback": [{"card": "c1", "outcome": "maybe"}]}
    body = assert_outcome(call(service, bad, path=f"{SERVICE_ID}/feedback"), 400)
    assert body["issue"][0]["diagnostics"].startswith("$.feedback[0].outcome")


# A real CDS Hooks client ---------------------------------------------------------------------


@pytest.mark.skipif(not NODE22.exists(), reason="node@22 from tests/peers/fhir is not installed")
def test_medplum_cds_client_discovers_prefetches_and_gets_cards(
    service: ServiceProcess, medplum: MedplumPeer, keys: Keys, tmp_path: Any
) -> None:
    patient, _ = load_household(medplum, "Client")
    practitioner = medplum.post(
        {"resourceType": "Practitioner", "name": [{"text": "Synthetic Clinician"}]}
    )
    config = {
        "fhirBase": medplum.root + "/",
        "cdsServices": f"{service.url}/cds-services",
        "serviceId": SERVICE_ID,
        "context": {"patientId": patient, "userId": f"Practitioner/{practitioner['id']}"},
        "user": practitioner,
        "key": {
            "pem": keys.ehr.private_pem.decode(),
            "kid": EHR_KID,
            "alg": "ES384",
            "iss": EHR_ISS,
            "sub": "ehr-client-1",
        },
    }
    path = tmp_path / "client.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [str(NODE22), "cds_client.mjs", str(path)],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert {s["id"] for s in out["discovery"]["services"]} >= {SERVICE_ID}
    assert set(out["request"]["prefetchKeys"]) == {
        "patient",
        "relatedPersons",
        "conditions",
        "observations",
        "flags",
    }
    codes = [c["source"]["topic"]["code"] for c in out["response"]["cards"]]
    assert "consider-children" in codes
