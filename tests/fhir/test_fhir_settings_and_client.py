"""The [fhir] trust settings are checked with file, key and reason; the client retries boundedly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import responses

from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirRequestFailed, FhirUnavailable
from adapters.fhir.settings import FhirSettings, check_fhir_settings


def issues_for(data: dict[str, object], tmp_path: Path) -> dict[str, str]:
    _, issues = check_fhir_settings(data, tmp_path / "trust.toml")
    for issue in issues:
        assert issue.file == str(tmp_path / "trust.toml")
    return {i.key: i.reason for i in issues}


def test_a_token_written_in_the_file_is_refused(tmp_path: Path) -> None:
    found = issues_for({"auth": "bearer", "bearer_token": "x"}, tmp_path)
    assert "fhir.bearer_token_env" in found


def test_smart_backend_needs_client_key_and_token_url(tmp_path: Path) -> None:
    found = issues_for({"auth": "smart-backend", "smart": {"algorithm": "HS256"}}, tmp_path)
    assert found["fhir.smart.client_id"] == "is required for smart-backend"
    assert found["fhir.smart.token_url"] == "is required"
    assert found["fhir.smart.private_key_path"] == "is required"
    assert "fhir.smart.algorithm" in found


def test_trusted_issuer_needs_keys_and_the_service_needs_an_audience(tmp_path: Path) -> None:
    found = issues_for({"cds": {"issuers": [{"iss": "https://ehr.example.test"}]}}, tmp_path)
    assert "fhir.cds.issuers[0].jwks_url" in found
    assert "fhir.cds.audience" in found


def test_unknown_keys_and_out_of_range_numbers_are_named(tmp_path: Path) -> None:
    found = issues_for({"verify_tls": False, "retries": 9, "base_url": "ftp://x"}, tmp_path)
    assert found["fhir.verify_tls"] == "is not a setting of the fhir section"
    assert found["fhir.retries"].startswith("must be between")
    assert found["fhir.base_url"] == "must be an http(s) URL"


def test_the_example_style_section_is_valid(tmp_path: Path) -> None:
    jwks = tmp_path / "ehr-jwks.json"
    jwks.write_text('{"keys": []}')
    settings, issues = check_fhir_settings(
        {
            "base_url": "https://ehr.example.test/fhir/R4",
            "auth": "bearer",
            "bearer_token_env": "THINKFAMILY_FHIR_TOKEN",
            "cds": {
                "audience": "https://thinkfamily.example.test",
                "issuers": [{"iss": "https://ehr.example.test", "jwks_path": "ehr-jwks.json"}],
            },
        },
        tmp_path / "trust.toml",
    )
    assert issues == []
    assert settings.cds_issuers[0].jwks_path == jwks


BASE = "https://fhir.example.test/R4"


@pytest.fixture
def client() -> Callable[..., FhirClient]:
    def make(retries: int = 2) -> FhirClient:
        return FhirClient(FhirSettings(base_url=BASE, retries=retries, backoff=0.0))

    return make


@responses.activate
def test_a_busy_server_is_retried_then_read(client: Callable[..., FhirClient]) -> None:
    responses.get(f"{BASE}/Patient/p1", status=503)
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    assert client().read("Patient", "p1") == {"resourceType": "Patient", "id": "p1"}
    assert len(responses.calls) == 2


@responses.activate
def test_retries_stop_after_the_configured_number(client: Callable[..., FhirClient]) -> None:
    responses.get(f"{BASE}/Patient/p1", body=requests.ConnectionError("refused"))
    with pytest.raises(FhirUnavailable):
        client(retries=2).read("Patient", "p1")
    assert len(responses.calls) == 3


@responses.activate
def test_a_timeout_counts_as_a_failed_attempt(client: Callable[..., FhirClient]) -> None:
    responses.get(f"{BASE}/Patient/p1", body=requests.ReadTimeout("slow"))
    with pytest.raises(FhirUnavailable):
        client(retries=1).read("Patient", "p1")
    assert len(responses.calls) == 2


@responses.activate
def test_a_client_error_is_not_retried(client: Callable[..., FhirClient]) -> None:
    responses.get(
        f"{BASE}/Patient",
        status=400,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid"}],
        },
    )
    with pytest.raises(FhirRequestFailed) as caught:
        client().search("Patient", {"name": "x"})
    assert caught.value.status == 400
    assert len(responses.calls) == 1


@responses.activate
def test_search_follows_next_links(client: Callable[..., FhirClient]) -> None:
    responses.get(
        f"{BASE}/Flag",
        json={
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Flag", "id": "f1"}}],
            "link": [{"relation": "next", "url": f"{BASE}/Flag?page=2"}],
        },
        match=[responses.matchers.query_param_matcher({"patient": "Patient/p1"})],
    )
    responses.get(
        f"{BASE}/Flag",
        json={
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Flag", "id": "f2"}}],
        },
        match=[responses.matchers.query_param_matcher({"page": "2"})],
    )
    found = client().search("Flag", {"patient": "Patient/p1"})
    assert [f["id"] for f in found] == ["f1", "f2"]


def test_tls_verification_cannot_be_turned_off() -> None:
    assert FhirClient(FhirSettings(base_url=BASE)).verify is True
