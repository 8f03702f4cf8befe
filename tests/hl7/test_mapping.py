"""ADT messages to first contacts: identifiers, household, indicators, and refusals by field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from adapters.hl7.errors import Hl7Invalid, Hl7Rejected
from plugin_core.cli import main
from plugin_core.contract import ContactSkipped
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import FirstContact, IndicatorKind, PromptCode, Relationship
from plugin_core.settings.config import TrustConfig
from tests.hl7.conftest import corpus_bytes


@pytest.fixture
def tf(config: TrustConfig) -> ThinkFamily:
    return ThinkFamily(config, entry_points=False)


def read(tf: ThinkFamily, data: bytes) -> FirstContact:
    contact = tf.hooks.parse_contact(data, "message.hl7")
    assert contact is not None
    return contact


def test_v2_3_admission_maps_patient_encounter_and_household(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a01_v2_3_basic"))
    person = contact.patient
    assert (person.id, person.nhs_number, person.name) == (
        "NORTHGEN|RF10001",
        "9990000018",
        "ALEX TESTER",
    )
    assert (person.birth_date, person.sex, person.postcode) == (date(1988, 5, 1), "F", "N7 8AA")
    assert contact.id == "hl7:NORTHGEN|C23-0001"
    assert contact.encounter is not None
    assert (contact.encounter.id, contact.encounter.kind) == ("V10001", "inpatient")
    assert contact.encounter.location == "NORTHGEN/WARD1/B2/3"
    assert contact.household is not None
    child, spouse = contact.household
    assert (child.relationship, child.birth_date, child.lives_with_patient) == (
        Relationship.CHILD,
        date(2016, 6, 1),
        True,
    )
    assert spouse.relationship is Relationship.PARTNER


def test_child_at_another_postcode_is_marked_as_not_living_with_the_patient(
    tf: ThinkFamily,
) -> None:
    contact = read(tf, corpus_bytes("a04_v2_3_1_emergency"))
    assert contact.household is not None
    kinds = [(m.relationship, m.lives_with_patient) for m in contact.household]
    assert kinds == [(Relationship.STEPCHILD, True), (Relationship.GRANDCHILD, False)]
    assert [i.kind for i in contact.indicators] == [IndicatorKind.SUBSTANCE_MISUSE]
    assessment = tf.assess(contact, now=contact.occurred_at, present=False)
    prompt = assessment.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None and prompt.severity.value == "warning"


def test_escaped_text_is_read_as_plain_text(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a05_v2_4_escapes"))
    assert contact.patient.name == "CASEY~LEE O^NEILL|SMITH"
    assert contact.household is not None
    assert contact.household[0].relationship is Relationship.CHILD
    assert contact.household[0].name == "DANI O^NEILL"


def test_pregnancy_observation_and_children_count_in_obx(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a08_v2_5_repetitions"))
    assert contact.pregnant is True
    assert contact.patient.nhs_number == "9990000034"
    assert contact.household is not None
    assert [m.relationship for m in contact.household] == [
        Relationship.FOSTER_CHILD,
        Relationship.WARD,
    ]
    assert contact.household[0].lives_with_patient is True  # same home address
    assert contact.household[1].lives_with_patient is None  # nothing recorded
    assessment = tf.assess(contact, now=contact.occurred_at, present=False)
    assert {p.code for p in assessment.prompts} >= {
        PromptCode.CONSIDER_CHILDREN,
        PromptCode.CONSIDER_UNBORN,
    }


def test_subcomponents_nhs_number_by_oid_and_dependant_code(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a28_v2_5_1_subcomponents"))
    assert contact.patient.nhs_number == "9990000042"
    assert contact.patient.name == "ROWAN STREET"
    assert contact.household is not None
    member = contact.household[0]
    assert (member.relationship, member.lives_with_patient) == (Relationship.CHILD, True)


def test_children_recorded_in_a_z_segment_become_children_of_unknown_age(
    tf: ThinkFamily,
) -> None:
    contact = read(tf, corpus_bytes("a31_v2_6"))
    assert contact.household is not None and len(contact.household) == 2
    assessment = tf.assess(contact, now=contact.occurred_at, present=False)
    assert [c.age for c in assessment.children] == [None, None]
    assert assessment.prompt(PromptCode.CONSIDER_CHILDREN) is not None


def test_truncation_escape_and_mental_health_diagnosis_in_v2_7(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a01_v2_7_truncation"))
    assert contact.patient.name == "QUINN HASH#TAG"
    assert [i.kind for i in contact.indicators] == [IndicatorKind.MENTAL_HEALTH]


def test_no_household_information_means_household_unknown(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a04_v2_7_1"))
    assert contact.household is None
    assessment = tf.assess(contact, now=contact.occurred_at, present=False)
    assert assessment.prompt(PromptCode.RECORD_HOUSEHOLD) is not None


def test_custom_separators_are_honoured(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a01_v2_8_custom_separators"))
    assert contact.patient.name == "AT@HOME DOLLAR$SIGN"  # the escapes stand for its own separators
    assert contact.patient.nhs_number == "9990000069"
    assert contact.household is not None
    assert contact.household[0].relationship is Relationship.CHILD
    # both the observation (OBX-3) and its coded answer (OBX-5) are on the trust's list
    assert [(i.kind, i.code) for i in contact.indicators] == [
        (IndicatorKind.DOMESTIC_ABUSE, "DA"),
        (IndicatorKind.DOMESTIC_ABUSE, "MARAC"),
    ]


def test_alternate_codes_in_nk1_and_dg1_are_used_when_the_first_is_local(
    tf: ThinkFamily,
) -> None:
    contact = read(tf, corpus_bytes("a01_v2_8_crlf_and_alt_codes"))
    assert contact.household is not None
    assert contact.household[0].relationship is Relationship.CHILD
    assert [i.kind for i in contact.indicators] == [IndicatorKind.MENTAL_HEALTH]


def test_empty_repetitions_and_components_are_skipped(tf: ThinkFamily) -> None:
    contact = read(tf, corpus_bytes("a01_v2_5_1_empty_reps"))
    assert contact.patient.id == "CENTRAL|RF10013"
    assert contact.patient.postcode == "N19 3AA"
    assert contact.household is not None
    assert [m.relationship for m in contact.household] == [
        Relationship.CHILD,
        Relationship.SIBLING,
    ]


def test_trust_local_relationship_code_is_honoured(tf: ThinkFamily) -> None:
    data = corpus_bytes("a01_v2_3_basic").replace(b"CHD^Child^HL70063", b"ZSON^Son^99LOCAL")
    contact = read(tf, data)
    assert contact.household is not None
    assert contact.household[0].relationship is Relationship.CHILD


@pytest.mark.parametrize(
    ("name", "reason"),
    [("a03_v2_5_discharge", "ADT^A03"), ("a01_v2_5_child_patient", "under 18")],
)
def test_messages_that_are_not_adult_first_contacts_are_skipped(
    tf: ThinkFamily, name: str, reason: str
) -> None:
    with pytest.raises(ContactSkipped) as caught:
        tf.hooks.parse_contact(corpus_bytes(name), "")
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("old", "new", "kind", "where"),
    [
        (b"|2.3\r", b"|2.2\r", Hl7Rejected, "MSH-12"),
        (b"ADT^A01|", b"ORU^R01|", Hl7Rejected, "MSH-9"),
        (b"|C23-0001|", b"||", Hl7Rejected, "MSH-10"),
        (b"|19880501|", b"|19881350|", Hl7Invalid, "PID-7"),
        (b"|20160601", b"|2016-06-01", Hl7Invalid, "NK1-16"),
        (b"EVN|A01|20260301095500", b"EVN|A01|yesterday", Hl7Invalid, "EVN-2"),
        (b"|9990000018^^^NHS^NH|RF10001^^^NORTHGEN^MR|", b"|||", Hl7Invalid, "PID-3"),
    ],
)
def test_refusals_name_the_field_and_never_the_value(
    tf: ThinkFamily, old: bytes, new: bytes, kind: type[Exception], where: str
) -> None:
    data = corpus_bytes("a01_v2_3_basic")
    assert old in data
    with pytest.raises(kind) as caught:
        tf.hooks.parse_contact(data.replace(old, new), "")
    message = str(caught.value)
    assert message.startswith(where)
    for secret in ("TESTER", "ALEX", "9990000018", "N7 8AA", "1988", "Example Road"):
        assert secret not in message


def test_input_that_is_not_hl7_is_left_to_other_plugins(config: TrustConfig) -> None:
    from adapters.hl7.plugin import Hl7Plugin
    from plugin_core.contract import PluginContext

    plugin = Hl7Plugin()
    plugin.thinkfamily_configure(PluginContext(config=config))
    assert plugin.thinkfamily_parse_contact(b'{"id": "c1"}', "contact.json") is None
    assert plugin.thinkfamily_parse_contact(b"<Bundle/>", "bundle.xml") is None


def test_assess_command_reads_an_hl7_message(
    trust_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = tmp_path / "adt.hl7"
    message.write_bytes(corpus_bytes("a04_v2_3_1_emergency"))
    code = main(
        ["assess", str(message), "--config", str(trust_path), "--now", "2026-03-02T03:00:00+00:00"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert [c["age"] for c in result["children"]] == [10, 6]
    assert "consider-children" in [p["code"] for p in result["prompts"]]


def test_assess_command_says_why_a_discharge_is_not_assessed(
    trust_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = tmp_path / "a03.hl7"
    message.write_bytes(corpus_bytes("a03_v2_5_discharge"))
    assert main(["assess", str(message), "--config", str(trust_path)]) == 2
    assert "ADT^A03 is not a first contact" in capsys.readouterr().err
