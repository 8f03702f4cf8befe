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


def open_contact(
    service: ServiceProcess, keys: Keys, patient: str, encounter: str | None = None
) -> str:
    """Call encounter-start (or patient-view, with no encounter) and return the contact's id."""
    hook_instance = str(uuid.uuid4())
    hook = "encounter-start" if encounter else "patient-view"
    context = {"userId": "Practitioner/prac-7", "patientId": patient}
    if encounter:
        context["encounterId"] = encounter
    body = {"hook": hook, "hookInstance": hook_instance, "context": context}
    response = hook_call(service, keys, f"thinkfamily-{hook}", body)
    assert response.status_code == 200, response.text
    return f"fhir:{patient}:{encounter or '-'}:{hook_instance}"


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
    contact_id = open_contact(service, keys, patient, encounter)
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
    contact_id = open_contact(service, keys, patient)
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


def test_a_recorded_household_is_written_back_as_related_persons_and_answers(
    medplum: MedplumPeer, service: ServiceProcess, keys: Keys
) -> None:
    """``thinkfamily_record_household`` in the FHIR adapter, against the real server."""
    patient, encounter = load_household(medplum, "Flow4")
    contact_id = open_contact(service, keys, patient, encounter)
    answer_id = f"h-{uuid.uuid4().hex}"
    body = {
        "id": answer_id,
        "recorded_by": {"id": "prac-7", "role": "Staff nurse"},
        "outcome": "children",
        "pregnant": False,
        "children": [
            {
                "name": "Rowan Flowfour",
                "birth_date": "2016-05-04",
                "relationship": "child",
                "lives_with_patient": True,
                "school": "Synthetic Primary",
            },
            {
                "name": "Ash Flowfour",
                "estimated_age": 2,
                "relationship": "partners_child",
                "lives_with_patient": False,
            },
        ],
    }
    recorded = service.api("POST", f"/api/contacts/{contact_id}/household", json=body)
    assert recorded.status_code == 201, recorded.text
    again = service.api("POST", f"/api/contacts/{contact_id}/household", json=body)
    assert again.status_code == 200 and again.json()["repeat"] is True

    first, second = (
        medplum.search(
            "RelatedPerson", identifier=f"{codes.TF_HOUSEHOLD_IDENTIFIER}|{answer_id}-{n}"
        )
        for n in (1, 2)
    )
    assert len(first) == 1 and len(second) == 1
    assert first[0]["patient"]["reference"] == f"Patient/{patient}"
    assert first[0]["birthDate"] == "2016-05-04"
    assert first[0]["relationship"][0]["coding"][0]["code"] == "CHILD"
    assert "birthDate" not in second[0]
    assert second[0]["relationship"][1]["coding"][0]["code"] == "lives-elsewhere"
    (answers,) = medplum.search(
        "QuestionnaireResponse", identifier=f"{codes.TF_HOUSEHOLD_IDENTIFIER}|{answer_id}"
    )
    assert answers["encounter"]["reference"] == f"Encounter/{encounter}"
    items = {i["linkId"]: i for i in answers["item"]}
    assert items["household-outcome"]["answer"][0]["valueCoding"]["code"] == "children"
    child_two = {i["linkId"]: i for i in items["child-2"]["item"]}
    assert child_two["child-age-band"]["answer"][0]["valueString"] == "1 to 4"
    assert child_two["child-person"]["answer"][0]["valueReference"]["reference"] == (
        f"RelatedPerson/{second[0]['id']}"
    )


def test_a_declined_household_writes_answers_but_no_related_person(
    medplum: MedplumPeer, service: ServiceProcess, keys: Keys
) -> None:
    patient, _ = load_household(medplum, "Flow5")
    contact_id = open_contact(service, keys, patient)
    answer_id = f"h-{uuid.uuid4().hex}"
    body = {"id": answer_id, "recorded_by": {"id": "prac-7"}, "outcome": "declined"}
    recorded = service.api("POST", f"/api/contacts/{contact_id}/household", json=body)
    assert recorded.status_code == 201, recorded.text
    (answers,) = medplum.search(
        "QuestionnaireResponse", identifier=f"{codes.TF_HOUSEHOLD_IDENTIFIER}|{answer_id}"
    )
    (outcome,) = [i for i in answers["item"] if i["linkId"] == "household-outcome"]
    assert outcome["answer"][0]["valueCoding"]["code"] == "declined"
    assert (
        medplum.search("RelatedPerson", identifier=f"{codes.TF_HOUSEHOLD_IDENTIFIER}|{answer_id}-1")
        == []
    )
