"""How the toxic trio and child protection flags raise the consider-children prompt (issue 2)."""

from __future__ import annotations

from datetime import date

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import IndicatorKind, Prompt, PromptCode, RiskIndicator, Severity
from plugin_core.settings.config import TrustConfig

from .builders import MakeContact, indicator, member

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
LOCAL = "https://thinkfamily.example/fhir/CodeSystem/flags"
TRIO = [IndicatorKind.SUBSTANCE_MISUSE, IndicatorKind.MENTAL_HEALTH, IndicatorKind.DOMESTIC_ABUSE]


def consider_children(
    engine: ThinkFamily, make_contact: MakeContact, indicators: list[RiskIndicator]
) -> Prompt:
    contact = make_contact(household=[member(date(2016, 6, 1))], indicators=indicators)
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None
    return prompt


def test_children_without_risk_indicators_give_info(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    prompt = consider_children(engine, make_contact, [])
    assert prompt.severity is Severity.INFO
    assert prompt.detail == ""


@pytest.mark.parametrize("kind", TRIO, ids=[k.value for k in TRIO])
def test_one_toxic_trio_kind_alone_gives_warning(
    engine: ThinkFamily, make_contact: MakeContact, kind: IndicatorKind
) -> None:
    prompt = consider_children(engine, make_contact, [indicator(kind)])
    assert prompt.severity is Severity.WARNING


@pytest.mark.parametrize(
    "pair",
    [(TRIO[0], TRIO[1]), (TRIO[0], TRIO[2]), (TRIO[1], TRIO[2])],
    ids=lambda pair: "+".join(k.value for k in pair),
)
def test_two_toxic_trio_kinds_give_critical(
    engine: ThinkFamily, make_contact: MakeContact, pair: tuple[IndicatorKind, IndicatorKind]
) -> None:
    prompt = consider_children(engine, make_contact, [indicator(k) for k in pair])
    assert prompt.severity is Severity.CRITICAL


def test_the_same_trio_kind_twice_is_still_one_kind(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    twice = [indicator(IndicatorKind.SUBSTANCE_MISUSE), indicator(IndicatorKind.SUBSTANCE_MISUSE)]
    assert consider_children(engine, make_contact, twice).severity is Severity.WARNING


def test_child_protection_flag_alone_gives_critical(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    prompt = consider_children(engine, make_contact, [indicator(IndicatorKind.CHILD_PROTECTION)])
    assert prompt.severity is Severity.CRITICAL
    assert "child protection flag" in prompt.detail


def test_all_three_trio_kinds_are_named_in_the_detail(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    prompt = consider_children(engine, make_contact, [indicator(k) for k in TRIO])
    assert prompt.severity is Severity.CRITICAL
    assert prompt.detail == "Record shows substance misuse, mental ill health and domestic abuse."


# Classification from codes through config/codes.toml --------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "kind"),
    [
        (ICD10, "F10.2", IndicatorKind.SUBSTANCE_MISUSE),
        ("I10", "F102", IndicatorKind.SUBSTANCE_MISUSE),  # HL7 v2 alias, code without the dot
        (ICD10, "f32.1", IndicatorKind.MENTAL_HEALTH),
        (ICD10, "T74.1", IndicatorKind.DOMESTIC_ABUSE),
        (SNOMED, "7200002", IndicatorKind.SUBSTANCE_MISUSE),
        ("SCT", "35489007", IndicatorKind.MENTAL_HEALTH),
        (LOCAL, "MARAC", IndicatorKind.DOMESTIC_ABUSE),
        ("99LOCAL", "CPP", IndicatorKind.CHILD_PROTECTION),
        (SNOMED, "77386006", IndicatorKind.PREGNANCY),
    ],
)
def test_codes_are_classified_by_the_trust_code_lists(
    config: TrustConfig, system: str, code: str, kind: IndicatorKind
) -> None:
    assert config.code_lists.classify(system, code) is kind


def test_code_from_another_system_is_not_classified(config: TrustConfig) -> None:
    # F10.2 is an ICD-10 substance misuse code, but not a SNOMED CT concept.
    assert config.code_lists.classify(SNOMED, "F10.2") is None
    assert config.code_lists.classify(ICD10, "J45") is None


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (ICD10, "F10.2", Severity.WARNING),
        (SNOMED, "58214004", Severity.WARNING),
        (LOCAL, "DA", Severity.WARNING),
        (LOCAL, "CP-IS", Severity.CRITICAL),
        (ICD10, "J45.9", Severity.INFO),
    ],
)
def test_coded_indicator_escalates_like_its_kind(
    engine: ThinkFamily, make_contact: MakeContact, system: str, code: str, expected: Severity
) -> None:
    prompt = consider_children(engine, make_contact, [indicator(IndicatorKind.OTHER, system, code)])
    assert prompt.severity is expected


def test_two_coded_trio_kinds_give_critical(engine: ThinkFamily, make_contact: MakeContact) -> None:
    coded = [
        indicator(IndicatorKind.OTHER, ICD10, "F10.2"),
        indicator(IndicatorKind.OTHER, SNOMED, "35489007"),
    ]
    assert consider_children(engine, make_contact, coded).severity is Severity.CRITICAL


def test_explicit_kind_is_not_overridden_by_its_code(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    # The host said mental health; the code list would say substance misuse. The host wins.
    explicit = [indicator(IndicatorKind.MENTAL_HEALTH, ICD10, "F10.2")]
    contact = make_contact(household=[member(date(2016, 6, 1))], indicators=explicit)
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert [i.kind for i in result.indicators] == [IndicatorKind.MENTAL_HEALTH]


def test_code_without_its_system_is_not_classified(config: TrustConfig) -> None:
    # "DA" is a local domestic-abuse code; with no system it could mean anything.
    assert config.code_lists.classify(None, "DA") is None
    assert config.code_lists.classify(LOCAL, "DA") is IndicatorKind.DOMESTIC_ABUSE


def test_child_in_need_code_is_not_a_child_protection_flag(config: TrustConfig) -> None:
    assert config.code_lists.classify(LOCAL, "CIN") is None
    assert config.code_lists.classify(LOCAL, "CPP") is IndicatorKind.CHILD_PROTECTION
