"""A FHIR Bundle read as a first contact: household, children, indicators, errors by JSON path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.fhir.bundle import looks_like_bundle, parse_bundle_contact
from adapters.fhir.errors import FhirBundleInvalid
from adapters.fhir.mapping import split_contact_id
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import IndicatorKind, PromptCode, Relationship
from plugin_core.settings.load import load_trust_config
from tests.fhir.conftest import as_collection, household_bundle

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> Any:
    return load_trust_config()


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_household_children_and_indicators_come_from_the_bundle(config: Any) -> None:
    doc = as_collection(household_bundle("A", with_cp_flag=True))
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.household is not None
    assert [m.relationship for m in contact.household] == [
        Relationship.CHILD,
        Relationship.STEPCHILD,
    ]
    assert all(m.lives_with_patient for m in contact.household)
    assert contact.household_recorded_at == datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    kinds = {i.kind for i in contact.indicators}
    assert kinds == {IndicatorKind.SUBSTANCE_MISUSE, IndicatorKind.CHILD_PROTECTION}
    assert contact.encounter is not None and contact.encounter.kind == "inpatient"
    assert contact.occurred_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    patient_id, encounter_id = split_contact_id(contact.id) or ("", None)
    assert patient_id == contact.patient.id and encounter_id == contact.encounter.id


def test_assessment_of_a_bundle_prompts_for_the_children(config: Any) -> None:
    doc = as_collection(household_bundle("B", pregnant=True))
    tf = ThinkFamily(config, entry_points=False)
    contact = tf.hooks.parse_contact(_bytes(doc), "export.json")
    assert contact is not None
    assessment = tf.assess(contact, now=NOW, present=False)
    ages = sorted(c.age for c in assessment.children if not c.unborn)
    assert ages == [7, 9]
    assert any(c.unborn for c in assessment.children)
    codes = {p.code for p in assessment.prompts}
    assert PromptCode.CONSIDER_CHILDREN in codes and PromptCode.CONSIDER_UNBORN in codes


def test_no_related_person_and_no_household_answer_means_household_unknown(config: Any) -> None:
    doc = as_collection(household_bundle("C", children=(), household_observation=False))
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.household is None


def test_household_answer_listing_nobody_means_asked_and_empty(config: Any) -> None:
    doc = as_collection(household_bundle("D", children=()))
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.household == ()


def test_child_not_named_in_the_household_answer_does_not_live_with_the_patient(
    config: Any,
) -> None:
    doc = as_collection(household_bundle("E"))
    observation = next(
        e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    observation["focus"] = observation["focus"][:1]
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.household is not None
    assert [m.lives_with_patient for m in contact.household] == [True, False]


def test_patient_link_to_a_related_person_adds_a_household_member(config: Any) -> None:
    doc = as_collection(household_bundle("F", children=(), household_observation=False))
    patient = doc["entry"][0]["resource"]
    patient["link"] = [{"other": {"reference": "RelatedPerson/linked1"}, "type": "seealso"}]
    doc["entry"].append(
        {
            "resource": {
                "resourceType": "RelatedPerson",
                "id": "linked1",
                "patient": {"reference": "Patient/someone-else"},
                "relationship": [{"coding": [{"code": "GRNDCHILD"}]}],
                "birthDate": "2015-01-01",
            }
        }
    )
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.household is not None
    assert [m.relationship for m in contact.household] == [Relationship.GRANDCHILD]


def test_resolved_condition_and_inactive_flag_are_not_indicators(config: Any) -> None:
    doc = as_collection(household_bundle("G", with_cp_flag=True))
    for entry in doc["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Condition":
            resource["clinicalStatus"]["coding"][0]["code"] = "resolved"
        if resource["resourceType"] == "Flag":
            resource["status"] = "inactive"
    contact = parse_bundle_contact(_bytes(doc), config.code_lists)
    assert contact.indicators == ()


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda d: d["entry"][0]["resource"].update(birthDate="01/05/1988"),
            "$.entry[0].resource.birthDate",
        ),
        (
            lambda d: d["entry"][2]["resource"].update(relationship="child"),
            "$.entry[2].resource.relationship",
        ),
        (lambda d: d.update(entry={"not": "a list"}), "$.entry"),
        (lambda d: d["entry"].__setitem__(1, "text"), "$.entry[1]"),
        (lambda d: [d["entry"].pop(0)], "$.entry"),
    ],
)
def test_malformed_bundle_is_refused_naming_the_json_path(
    config: Any, mutate: Any, path: str
) -> None:
    doc = as_collection(household_bundle("H"))
    mutate(doc)
    with pytest.raises(FhirBundleInvalid) as caught:
        parse_bundle_contact(_bytes(doc), config.code_lists)
    message = str(caught.value)
    assert message.startswith(path)
    assert "Testperson" not in message and "1988" not in message


def test_only_json_declaring_a_bundle_is_taken_as_one() -> None:
    assert looks_like_bundle(b'{\n  "resourceType" : "Bundle", "type": "collection"}')
    assert not looks_like_bundle(b'{"resourceType": "Patient"}')
    assert not looks_like_bundle(b"MSH|^~\\&|")
    assert not looks_like_bundle(b'{"id": "contact-1"}')


def test_assess_command_reads_a_bundle_file(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(as_collection(household_bundle("I"))))
    exe = Path(sys.executable).with_name("thinkfamily")
    result = subprocess.run(
        [str(exe), "assess", str(path), "--now", "2026-03-01T12:00:00+00:00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["household_known"] is True
    assert sorted(c["age"] for c in printed["children"]) == [7, 9]


def test_assess_command_names_the_path_of_a_malformed_bundle(tmp_path: Path) -> None:
    doc = as_collection(household_bundle("J"))
    doc["entry"][0]["resource"]["gender"] = 5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    exe = Path(sys.executable).with_name("thinkfamily")
    result = subprocess.run(
        [str(exe), "assess", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "$.entry[0].resource.gender" in result.stderr
