"""What ThinkFamily sends survives the wire: built, serialised, parsed back with the R4B models,
the ids, identifiers, codes, references and children are all still there."""

from __future__ import annotations

import json
from datetime import date

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.task import Task

from adapters.fhir import codes
from adapters.fhir.cds.cards import build_cards
from adapters.fhir.referral_message import referral_message
from adapters.fhir.settings import read_fhir_settings
from adapters.fhir.writeback import derived_id, write_back_bundle, write_back_transaction
from plugin_core.model import PromptCode
from plugin_core.rules.levels import with_overrides
from plugin_core.settings.load import load_trust_config
from tests.fhir.outbound_scene import DESTINATION, NOW, scene, unresolved

MESSAGE_KINDS = [
    "MessageHeader",
    "ServiceRequest",
    "Patient",
    "RelatedPerson",
    "RelatedPerson",
    "Consent",
    "Flag",
    "Encounter",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Organization",
]


def test_referral_message_sent_is_the_library_serialisation_of_the_built_bundle() -> None:
    s = scene()
    sent = referral_message(
        s.referral, DESTINATION, s.contact, s.decision, s.assessment,
        sender_id="trust-1", sender_name="Synthetic Trust",
        source_endpoint="urn:thinkfamily:trust-1", now=NOW,
    )  # fmt: skip
    assert sent == json.loads(s.message().model_dump_json())


def test_referral_message_parsed_back_keeps_its_key_entries_and_links() -> None:
    s = scene()
    built = s.message()
    parsed = Bundle.model_validate_json(built.model_dump_json())
    assert parsed.model_dump_json() == built.model_dump_json()

    assert parsed.type == "message"
    assert parsed.identifier.system == codes.TF_REFERRAL_ID
    assert parsed.identifier.value == s.referral.idempotency_key
    assert [e.resource.get_resource_type() for e in parsed.entry] == MESSAGE_KINDS
    by_url = {e.fullUrl: e.resource for e in parsed.entry}
    assert len(by_url) == len(parsed.entry)
    assert unresolved(parsed) == set()

    header, request = parsed.entry[0].resource, parsed.entry[1].resource
    assert header.eventCoding.system == codes.BARS_EVENT
    assert header.eventCoding.code == "servicerequest-request"
    assert header.reason.coding[0].code == "new"
    assert by_url[header.focus[0].reference] is request
    assert header.destination[0].endpoint == DESTINATION.address
    assert by_url[header.destination[0].receiver.reference].id == "islington"

    assert request.identifier[0].value == s.referral.original_key
    assert request.status == "active" and request.intent == "order"
    assert request.category[0].coding[0].code == f"route-{s.referral.route.value}"
    assert request.code.coding[0].code == "safeguarding-referral"
    assert by_url[request.subject.reference].id == "pat-1"
    assert by_url[request.encounter.reference].id == "enc-1"
    assert by_url[request.requester.reference].id == "nurse-17"
    supporting = [by_url[r.reference].get_resource_type() for r in request.supportingInfo]
    assert supporting == ["Consent", "Flag", "RelatedPerson", "RelatedPerson"]
    assert "The referral includes an unborn child." in [n.text for n in request.note]


def test_referral_message_parsed_back_keeps_the_people_and_their_codes() -> None:
    s = scene()
    parsed = Bundle.model_validate_json(s.message().model_dump_json())
    found = {}
    for entry in parsed.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    patient_url = parsed.entry[2].fullUrl

    (patient,) = found["Patient"]
    assert patient.id == "pat-1"
    assert (patient.identifier[0].system, patient.identifier[0].value) == (
        codes.NHS_NUMBER,
        "9000000009",
    )
    assert patient.birthDate == date(1988, 5, 1)
    children = {c.id: c for c in found["RelatedPerson"]}
    assert set(children) == {"rp-1", "rp-2"}
    assert children["rp-1"].relationship[0].coding[0].code == "CHILD"
    assert children["rp-2"].relationship[0].coding[0].code == "STPCHLD"
    assert children["rp-1"].birthDate == date(2016, 6, 1)
    assert {c.patient.reference for c in children.values()} == {patient_url}

    (consent,) = found["Consent"]
    assert consent.policyRule.coding[0].code == "public_task"
    assert consent.category[0].coding[0].code == "consent-given"
    (flag,) = found["Flag"]
    assert flag.code.coding[0].code == codes.SAFEGUARDING_CONCERN[1]
    assert flag.identifier[0].value == s.decision.id
    (encounter,) = found["Encounter"]
    assert (encounter.id, encounter.class_fhir.code) == ("enc-1", "IMP")
    (practitioner,) = found["Practitioner"]
    assert practitioner.identifier[0].value == "nurse-17"
    assert [(o.id, o.name) for o in found["Organization"]] == [
        ("trust-1", "Synthetic Trust"),
        ("islington", "Islington"),
    ]


def test_write_back_transaction_parsed_back_keeps_answers_children_and_targets() -> None:
    s = scene()
    built = write_back_transaction(s.decision, s.assessment, "pat-1", "enc-1", "RXX")
    parsed = Bundle.model_validate_json(built.model_dump_json())
    assert parsed.model_dump_json() == built.model_dump_json()
    assert write_back_bundle(s.decision, s.assessment, "pat-1", "enc-1", "RXX") == json.loads(
        built.model_dump_json()
    )
    answers, flag, provenance = (e.resource for e in parsed.entry)

    ident = f"identifier={codes.TF_IDENTIFIER}|{s.decision.id}"
    requests = [(e.request.method, e.request.url, e.request.ifNoneExist) for e in parsed.entry]
    assert requests == [
        ("POST", "QuestionnaireResponse", ident),
        ("POST", "Flag", ident),
        ("PUT", f"Provenance/{provenance.id}", None),
    ]

    assert answers.identifier.value == s.decision.id
    assert answers.subject.reference == "Patient/pat-1"
    assert answers.encounter.reference == "Encounter/enc-1"
    assert answers.author.reference == "Practitioner/nurse-17"
    items = {i.linkId: i for i in answers.item}
    assert items["share"].answer[0].valueBoolean is True
    assert items["level-of-need"].answer[0].valueInteger == 3
    assert items["lawful-basis"].answer[0].valueCoding.code == "public_task"
    assert items["children-count"].answer[0].valueInteger == len(s.assessment.children)
    child_refs = [
        part.answer[0].valueString
        for item in answers.item
        if item.linkId.startswith("child-") and item.item
        for part in item.item
        if part.linkId == "child-ref"
    ]
    assert child_refs == [c.ref for c in s.assessment.children]

    assert flag.identifier[0].value == s.decision.id
    assert flag.period.start == s.decision.decided_at
    assert provenance.id == derived_id("tf", s.decision.id)
    assert [t.reference for t in provenance.target] == [e.fullUrl for e in parsed.entry[:2]]
    agent = provenance.agent[0]
    assert agent.who.reference == "Practitioner/nurse-17"
    assert agent.role[0].text == "Staff nurse"
    assert agent.onBehalfOf.identifier.value == "RXX"


def test_each_write_back_resource_parses_back_with_its_own_model() -> None:
    s = scene()
    for entry in write_back_transaction(s.decision, s.assessment, "pat-1", None).entry:
        resource = entry.resource
        again = type(resource).model_validate_json(resource.model_dump_json())
        assert again.model_dump_json() == resource.model_dump_json()
        assert again.get_resource_type() in {"QuestionnaireResponse", "Flag", "Provenance"}


def test_card_suggestions_are_a_valid_flag_and_task_for_the_patient() -> None:
    s = scene()
    cards = build_cards(
        s.assessment,
        read_fhir_settings(load_trust_config()),
        hook_instance="hook-1",
        patient_id="pat-1",
        encounter_id="enc-1",
    )
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == PromptCode.CONSIDER_CHILDREN]
    flag_json, task_json = (s["actions"][0]["resource"] for s in card["suggestions"])
    flag, task = Flag.model_validate(flag_json), Task.model_validate(task_json)
    assert flag.subject.reference == task.for_fhir.reference == "Patient/pat-1"
    assert flag.encounter.reference == task.encounter.reference == "Encounter/enc-1"
    assert flag.code.coding[0].code == codes.SAFEGUARDING_CONCERN[1]
    assert task.code.coding[0].code == "think-family-decision"


def test_a_concern_card_names_the_authoritys_levels_of_need_and_threshold_document() -> None:
    s = scene()
    threshold = with_overrides(
        {3: ("children with complex multiple needs", "")},
        "CPAT",
        "https://redbridge.example/thresholds",
    )
    cards = build_cards(
        s.assessment,
        read_fhir_settings(load_trust_config()),
        hook_instance="hook-1",
        patient_id="pat-1",
        encounter_id="enc-1",
        threshold=threshold,
    )
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == PromptCode.CONSIDER_CHILDREN]
    assert "3 children with complex multiple needs; 4 acute needs" in card["detail"]
    assert "(https://redbridge.example/thresholds)" in card["detail"]
