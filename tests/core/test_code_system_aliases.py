"""Code systems sent under their common aliases classify through every path; unreadable ones are
listed as unclassified, never dropped, and ``thinkfamily assess`` shows them."""

from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest

from plugin_core.formats import serialise
from plugin_core.formats.contact_json import assessment_to_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Assessment, IndicatorKind, PromptCode
from plugin_core.replay import print_report, replay
from plugin_core.settings.config import TrustConfig

from .coded import ICD10, LOINC, PATHS, SNOMED, assess_via, hl7_message, json_contact

ALL_PATHS = list(PATHS)
ICD10_ALIASES = ["ICD10", "I10", "ICD-10", "icd10", "i10", "icd-10", "ICD_10", "ICD-10-UK"]
SNOMED_ALIASES = ["SCT", "SNOMED", "sct", "snomed", "SNOMED-CT", "SnomedCT", "SNM"]
OIDS = [
    (ICD10, "urn:oid:2.16.840.1.113883.6.3"),
    (ICD10, "2.16.840.1.113883.6.3"),
    (SNOMED, "urn:oid:2.16.840.1.113883.6.96"),
]


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("alias", ICD10_ALIASES)
def test_icd10_alias_classifies_and_is_written_as_the_canonical_uri(
    engine: ThinkFamily, path: str, alias: str
) -> None:
    result = assess_via(engine, path, [(alias, "F20.0")])
    assert [(i.kind, i.system) for i in result.indicators] == [(IndicatorKind.MENTAL_HEALTH, ICD10)]
    assert result.unclassified == ()


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("alias", SNOMED_ALIASES)
def test_snomed_alias_classifies_and_is_written_as_the_canonical_uri(
    engine: ThinkFamily, path: str, alias: str
) -> None:
    result = assess_via(engine, path, [(alias, "7200002")])
    assert [(i.kind, i.system) for i in result.indicators] == [
        (IndicatorKind.SUBSTANCE_MISUSE, SNOMED)
    ]


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("canonical", "oid"), OIDS)
def test_system_given_as_an_oid_classifies(
    engine: ThinkFamily, path: str, canonical: str, oid: str
) -> None:
    code = "F20.0" if canonical == ICD10 else "58214004"
    result = assess_via(engine, path, [(oid, code)])
    assert [(i.kind, i.system) for i in result.indicators] == [
        (IndicatorKind.MENTAL_HEALTH, canonical)
    ]


@pytest.mark.parametrize("alias", ["SNOMED CT", " ICD10 ", "Icd 10"])
def test_alias_with_spaces_classifies_through_json_and_hl7(engine: ThinkFamily, alias: str) -> None:
    # FHIR forbids spaces in Coding.system, so these reach ThinkFamily only by the other paths.
    code = "58214004" if "SNOMED" in alias else "F20.0"
    for path in ("json", "hl7"):
        result = assess_via(engine, path, [(alias, code)])
        assert [i.kind for i in result.indicators] == [IndicatorKind.MENTAL_HEALTH], path


def test_hl7_coding_system_oid_in_cwe_14_is_read_when_cwe_3_is_empty(
    engine: ThinkFamily,
) -> None:
    dg1 = "DG1|9||F20.0^Schizophrenia^^^^^^^^^^^^2.16.840.1.113883.6.3||20260301|W"
    result = assess_via(engine, "hl7", [], extra=dg1)
    assert [(i.kind, i.system) for i in result.indicators] == [(IndicatorKind.MENTAL_HEALTH, ICD10)]


def test_hl7_alternate_coding_with_an_alias_classifies(engine: ThinkFamily) -> None:
    dg1 = "DG1|9||XX1^Local^99ABC^F10.2^Alcohol dependence^icd-10||20260301|W"
    result = assess_via(engine, "hl7", [], extra=dg1)
    assert [i.kind for i in result.indicators] == [IndicatorKind.SUBSTANCE_MISUSE]
    assert result.unclassified == ()


# Unclassified codes -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_PATHS)
def test_unknown_and_missing_systems_are_listed_as_unclassified(
    engine: ThinkFamily, path: str
) -> None:
    readv2 = "http://read.info/readv2" if path == "fhir" else "READ2"
    codings = [(readv2, "E11z."), (None, "F20.0"), (readv2, "E11z."), ("I10", "J45.9")]
    result = assess_via(engine, path, codings)
    assert result.unclassified == ((readv2, "E11z."), ("", "F20.0"))
    # Listed, not counted as indicators: they carry no kind and go into no referral.
    assert all(i.code != "E11z." for i in result.indicators)
    prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None and prompt.severity.value == "info"


@pytest.mark.parametrize("path", ALL_PATHS)
def test_code_of_a_known_system_on_no_list_is_not_unclassified(
    engine: ThinkFamily, path: str
) -> None:
    result = assess_via(engine, path, [(ICD10, "J45.9"), ("SCT", "195967001")])
    assert result.unclassified == ()


def test_host_named_kind_with_an_unknown_system_is_kept_not_listed(engine: ThinkFamily) -> None:
    doc = json.loads(json_contact([]))
    doc["indicators"] = [{"kind": "domestic_abuse", "system": "MYEHR", "code": "DV1"}]
    contact = engine.hooks.parse_contact(json.dumps(doc).encode(), "contact.json")
    assert contact is not None
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert [i.kind for i in result.indicators] == [IndicatorKind.DOMESTIC_ABUSE]
    assert result.unclassified == ()


def test_hl7_observation_question_and_yes_no_answer_are_not_listed(engine: ThinkFamily) -> None:
    obx = "\n".join(
        [
            "OBX|1|CWE|72166-2^Tobacco smoking status^LN||Y^Yes^HL70136||||||F",
            "OBX|2|CWE|Q1^Local question^99ABC||Y^Yes^HL70136||||||F",
        ]
    )
    result = assess_via(engine, "hl7", [], extra=obx)
    assert result.unclassified == ()


def test_hl7_coded_answer_in_an_unknown_system_is_listed(engine: ThinkFamily) -> None:
    obx = "OBX|1|CWE|Q1^Local question^99ABC||E11z.^Finding^READ2||||||F"
    result = assess_via(engine, "hl7", [], extra=obx)
    assert result.unclassified == (("READ2", "E11z."),)


def test_fhir_observation_value_in_an_unknown_system_is_listed(engine: ThinkFamily) -> None:
    observation = {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": "11341-5"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://example.org/occ", "code": "X7"}]},
    }
    result = assess_via(engine, "fhir", [], resources=[observation])
    assert result.unclassified == (("http://example.org/occ", "X7"),)


def test_fhir_concept_with_one_readable_coding_is_not_listed(engine: ThinkFamily) -> None:
    condition = {
        "resourceType": "Condition",
        "id": "cond-9",
        "subject": {"reference": "Patient/p1"},
        "code": {
            "coding": [
                {"system": "http://example.org/local", "code": "L1"},
                {"system": SNOMED, "code": "195967001"},
            ]
        },
    }
    result = assess_via(engine, "fhir", [], resources=[condition])
    assert result.unclassified == ()


def test_unclassified_codes_appear_in_the_assessment_json_and_survive_storage(
    engine: ThinkFamily,
) -> None:
    result = assess_via(engine, "json", [("READ2", "E11z."), (None, "X1")])
    assert assessment_to_dict(result)["unclassified_codes"] == [
        {"system": "READ2", "code": "E11z."},
        {"system": "", "code": "X1"},
    ]
    assert serialise.loads(Assessment, serialise.dumps(result)).unclassified == result.unclassified


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("contact.json", json_contact([("READ2", "E11z."), (None, "F20.0"), ("I10", "F41.1")])),
        ("message.hl7", hl7_message([("READ2", "E11z."), (None, "F20.0"), ("I10", "F41.1")])),
    ],
)
def test_assess_command_shows_unclassified_codes_and_the_severity_reason(
    thinkfamily_script: Path, tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = subprocess.run(
        [str(thinkfamily_script), "assess", str(path), "--now", "2026-03-01T10:05:00+00:00"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["unclassified_codes"] == [
        {"system": "READ2", "code": "E11z."},
        {"system": "", "code": "F20.0"},
    ]
    (prompt,) = [p for p in out["prompts"] if p["code"] == "consider-children"]
    assert (prompt["severity"], prompt["severity_reason"]) == (
        "info",
        "Anxiety in the record; no higher risk factor",
    )


def test_code_lists_recognise_hl7_tables_but_not_unknown_systems(config: TrustConfig) -> None:
    lists = config.code_lists
    assert lists.recognises("HL70136")
    assert lists.recognises("http://terminology.hl7.org/CodeSystem/v2-0136")
    assert lists.recognises("ln")
    assert not lists.recognises("READ2")
    assert not lists.recognises(None)
    assert not lists.recognises("  ")


def test_replay_totals_unclassified_codes_by_system(engine: ThinkFamily) -> None:
    day = hl7_message([("READ2", "E11z."), ("READ2", "Eu32."), (None, "F20.0")])
    report = replay(day, engine, hint="day.hl7")
    assert report is not None
    assert report.unclassified_totals == {"": 1, "READ2": 2}
    text = StringIO()
    print_report(report, text)
    assert "unclassified codes: 3" in text.getvalue()
    assert "  READ2: 2\n" in text.getvalue()
    assert "  (no system): 1\n" in text.getvalue()
