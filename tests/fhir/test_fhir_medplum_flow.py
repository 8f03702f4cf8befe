"""The whole FHIR flow against real peers: Medplum's FHIR server and ``thinkfamily serve``.

A CDS Hooks call assesses a synthetic household read from the FHIR server; the clinician's
decision is written back (QuestionnaireResponse, Flag, Provenance) and read back from the
server; the referral travels as a BaRS-shaped message and a repeated post creates nothing new.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.fhir import codes
from adapters.fhir.bundle import parse_bundle_contact
from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirRequestFailed
from adapters.fhir.plugin import FhirPlugin
from adapters.fhir.settings import read_fhir_settings
from adapters.fhir.transport import post_message
from plugin_core.contract import PluginContext, ReferralDetails
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Authority,
    Channel,
    Consent,
    Decision,
    Destination,
    LawfulBasis,
    Professional,
    Referral,
    Route,
)
from plugin_core.settings.load import load_trust_config
from tests.fhir.conftest import (
    Keys,
    MedplumPeer,
    as_collection,
    authorities_with_fhir,
    cds_token,
    fhir_service,
    household_bundle,
    load_household,
    needs_node_peer,
)
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess

pytestmark = [pytest.mark.integration, needs_node_peer]

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def service(
    medplum: MedplumPeer, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    directory = tmp_path_factory.mktemp("fhir-flow")
    authorities = authorities_with_fhir(medplum.base)
    with fhir_service(directory, medplum, keys, name="fhir-flow", authorities=authorities) as proc:
        yield proc


def hook_call(
    service: ServiceProcess, keys: Keys, service_id: str, body: dict[str, Any]
) -> requests.Response:
    url = f"{service.url}/cds-services/{service_id}"
    return requests.post(
        url,
        json=body,
        headers={"Authorization": f"Bearer {cds_token(keys.ehr, url)}"},
        timeout=30,
    )


def decision_body(share: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"dec-{uuid.uuid4().hex[:8]}",
        "decided_by": {"id": "prac-7", "role": "Staff nurse"},
        "share": share,
        "level_of_need": 3 if share else 1,
        "reasons": "Synthetic test reasons.",
    }
    if share:
        body |= {
            "lawful_basis": "public_task",
            "consent": "given",
            "authority_id": "islington",
            "what_shared": "Household composition and the admission reason.",
        }
    return body


def test_encounter_start_assesses_the_household_read_from_the_fhir_server(
    medplum: MedplumPeer, service: ServiceProcess, keys: Keys
) -> None:
    patient, encounter = load_household(medplum, "Flow1")
    response = hook_call(
        service,
        keys,
        "thinkfamily-encounter-start",
        {
            "hook": "encounter-start",
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": medplum.base,
            "context": {
                "userId": "Practitioner/prac-7",
                "patientId": patient,
                "encounterId": encounter,
            },
        },
    )
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    by_code = {c["source"]["topic"]["code"]: c for c in cards}
    card = by_code["consider-children"]
    assert card["indicator"] in ("warning", "critical")
    assert len(card["summary"]) <= 140
    assert card["links"][0]["type"] == "smart"
    actions = [a["resource"]["resourceType"] for s in card["suggestions"] for a in s["actions"]]
    assert actions == ["Flag", "Task"]


def test_decision_is_written_back_and_the_referral_delivered_once(
    medplum: MedplumPeer, service: ServiceProcess, keys: Keys
) -> None:
    patient, encounter = load_household(medplum, "Flow2")
    hook_instance = str(uuid.uuid4())
    response = hook_call(
        service,
        keys,
        "thinkfamily-encounter-start",
        {
            "hook": "encounter-start",
            "hookInstance": hook_instance,
            "context": {
                "userId": "Practitioner/prac-7",
                "patientId": patient,
                "encounterId": encounter,
            },
        },
    )
    assert response.status_code == 200, response.text
    contact_id = f"fhir:{patient}:{encounter}:{hook_instance}"
    recorded = service.api(
        "POST", f"/api/contacts/{contact_id}/decision", json=decision_body(share=True)
    )
    assert recorded.status_code == 201, recorded.text
    decision_id = recorded.json()["decision_id"]
    (referral,) = recorded.json()["referrals"]

    ident = f"{codes.TF_IDENTIFIER}|{decision_id}"
    (answers,) = medplum.search("QuestionnaireResponse", identifier=ident)
    assert answers["subject"]["reference"] == f"Patient/{patient}"
    items = {i["linkId"]: i for i in answers["item"]}
    assert items["children-count"]["answer"][0]["valueInteger"] == 2
    assert items["share"]["answer"][0]["valueBoolean"] is True
    (flag,) = medplum.search("Flag", identifier=ident)
    assert flag["code"]["coding"][0]["code"] == "safeguarding-concern"
    (provenance,) = medplum.search("Provenance", target=f"QuestionnaireResponse/{answers['id']}")
    assert provenance["agent"][0]["who"]["reference"] == "Practitioner/prac-7"
    assert {t["reference"] for t in provenance["target"]} == {
        f"QuestionnaireResponse/{answers['id']}",
        f"Flag/{flag['id']}",
    }

    def delivered() -> bool:
        return bool(
            medplum.search(
                "Bundle", identifier=f"{codes.TF_REFERRAL_ID}|{referral['idempotency_key']}"
            )
        )

    wait_for(delivered, timeout=30, what="the referral message at the FHIR receiver")
    state = service.api("GET", f"/api/referrals/{referral['id']}")
    assert state.status_code == 200
    assert state.json()["status"] in ("delivered", "acknowledged")


def test_not_sharing_writes_answers_and_provenance_without_a_flag(
    medplum: MedplumPeer, service: ServiceProcess, keys: Keys
) -> None:
    patient, _ = load_household(medplum, "Flow3")
    hook_instance = str(uuid.uuid4())
    response = hook_call(
        service,
        keys,
        "thinkfamily-patient-view",
        {
            "hook": "patient-view",
            "hookInstance": hook_instance,
            "context": {"userId": "Practitioner/prac-7", "patientId": patient},
        },
    )
    assert response.status_code == 200, response.text
    contact_id = f"fhir:{patient}:-:{hook_instance}"
    recorded = service.api(
        "POST", f"/api/contacts/{contact_id}/decision", json=decision_body(share=False)
    )
    assert recorded.status_code == 201, recorded.text
    ident = f"{codes.TF_IDENTIFIER}|{recorded.json()['decision_id']}"
    (answers,) = medplum.search("QuestionnaireResponse", identifier=ident)
    assert medplum.search("Flag", identifier=ident) == []
    assert len(medplum.search("Provenance", target=f"QuestionnaireResponse/{answers['id']}")) == 1


class _Details:
    """A service port that knows one referral's contact, assessment and decision."""

    def __init__(self, details: ReferralDetails) -> None:
        self.details = details

    def referral_details(self, referral: Any) -> ReferralDetails:
        return self.details

    def count(self, metric: str, amount: int = 1) -> None:
        return None


def shared_referral(config: Any) -> tuple[Referral, ReferralDetails]:
    """A sharing decision on a synthetic Bundle contact, and the referral it makes."""
    doc = as_collection(household_bundle("Ref"))
    contact = parse_bundle_contact(json.dumps(doc).encode(), config.code_lists)
    tf = ThinkFamily(config, entry_points=False)
    assessment = tf.assess(contact, now=NOW, present=False)
    chosen = Decision(
        id=f"dec-{uuid.uuid4().hex[:8]}",
        contact_id=contact.id,
        decided_by=Professional("prac-7", "Staff nurse"),
        decided_at=NOW,
        share=True,
        reasons="Synthetic test reasons.",
        level_of_need=3,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        consent=Consent.GIVEN,
        what_shared="Household composition and the admission reason.",
        authority_id="islington",
    )
    referral = tf.decide(chosen, assessment, now=NOW).referrals[0]
    return referral, ReferralDetails(contact, assessment, chosen)


def test_posting_the_same_referral_twice_leaves_one_message_at_the_receiver(
    medplum: MedplumPeer, trust_config: Callable[..., Path]
) -> None:
    config = load_trust_config(trust_config(base_url=medplum.base))
    referral, details = shared_referral(config)
    plugin = FhirPlugin()
    plugin.thinkfamily_configure(PluginContext(config=config, service=_Details(details)))
    where = Destination(
        Authority("islington", "Islington"), Route.FRONT_DOOR, Channel.FHIR, medplum.base, True
    )
    first = plugin.thinkfamily_dispatch(referral, where)
    second = plugin.thinkfamily_dispatch(referral, where)
    assert first is not None and second is not None
    assert first.delivered and first.acknowledged and second.acknowledged
    assert first.reference == second.reference
    stored = medplum.search(
        "Bundle", identifier=f"{codes.TF_REFERRAL_ID}|{referral.idempotency_key}"
    )
    assert len(stored) == 1
    header = stored[0]["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "servicerequest-request"
    kinds = [e["resource"]["resourceType"] for e in stored[0]["entry"]]
    for kind in ("ServiceRequest", "Patient", "Consent", "Flag", "Practitioner", "Organization"):
        assert kind in kinds


def test_refused_message_gives_a_receipt_that_asks_for_a_call(
    medplum: MedplumPeer, trust_config: Callable[..., Path]
) -> None:
    config = load_trust_config(trust_config(base_url=medplum.base))
    client = FhirClient(read_fhir_settings(config), medplum.base)
    referral, _ = shared_referral(config)
    receipt = post_message(
        client, medplum.base, {"resourceType": "Bundle", "type": "collection"}, referral
    )
    assert not receipt.delivered and not receipt.retryable
    assert "message Bundle" in receipt.detail


def test_smart_backend_services_token_reads_the_fhir_server(
    keys: Keys, trust_config: Callable[..., Path]
) -> None:
    peer = MedplumPeer(
        {
            "PEER_AUTH": "smart",
            "PEER_CLIENT_ID": "thinkfamily-backend",
            "PEER_CLIENT_JWKS": str(keys.smart_jwks),
        }
    ).start()
    try:
        config = load_trust_config(
            trust_config(
                base_url=peer.base,
                auth="smart-backend",
                keys=keys,
                token_url=f"{peer.root}/oauth2/token",
            )
        )
        client = FhirClient(read_fhir_settings(config))
        assert requests.get(f"{peer.base}/Patient", timeout=10).status_code == 401
        assert client.search("Patient", {"_count": "1"}) == []
        created = client.post(
            f"{peer.base}/Patient", {"resourceType": "Patient", "gender": "female"}
        )
        assert created.status == 201
        assert client.read("Patient", created.body["id"])["gender"] == "female"  # type: ignore[index]
    finally:
        peer.stop()


def test_static_bearer_token_comes_from_the_named_environment_variable(
    trust_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = MedplumPeer({"PEER_AUTH": "bearer", "PEER_BEARER_TOKEN": "synthetic-token-1"}).start()
    try:
        monkeypatch.setenv("TF_TEST_FHIR_TOKEN", "synthetic-token-1")
        config = load_trust_config(trust_config(base_url=peer.base, auth="bearer"))
        client = FhirClient(read_fhir_settings(config))
        assert client.search("Patient", {}) == []
        monkeypatch.setenv("TF_TEST_FHIR_TOKEN", "wrong")
        with pytest.raises(FhirRequestFailed) as caught:
            client.search("Patient", {})
        assert caught.value.status == 401
    finally:
        peer.stop()
