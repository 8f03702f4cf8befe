"""The example code lists: kinds and weights for each class of code, and the severity they give.

Each class runs several codes through ThinkFamily JSON, HL7 v2 and FHIR, since each path builds
its indicators its own way.
"""

from __future__ import annotations

from datetime import date

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import IndicatorKind, PromptCode, RiskIndicator, Severity
from plugin_core.rules.severity import DEFAULTS, NO_RISK_REASON
from plugin_core.settings.config import TrustConfig

from .builders import MakeContact, indicator, member
from .coded import ICD10, LOCAL, PATHS, SNOMED, Coding, assess_via, contact_via

ALL_PATHS = list(PATHS)

ENDED = [
    (ICD10, "O00.1"),  # tubal (ectopic) pregnancy
    (ICD10, "O01.9"),  # hydatidiform mole
    (ICD10, "O02.1"),  # missed abortion
    (ICD10, "O03.9"),  # spontaneous abortion (miscarriage)
    (ICD10, "O04.4"),  # medical abortion
    (ICD10, "O06.9"),  # unspecified abortion
    (ICD10, "O08.1"),  # haemorrhage after abortion or ectopic
    (ICD10, "Z37.1"),  # outcome of delivery: single stillbirth
    (SNOMED, "17369002"),  # miscarriage
    (SNOMED, "57797005"),  # termination of pregnancy
    (SNOMED, "34801009"),  # ectopic pregnancy
    (SNOMED, "44782008"),  # molar pregnancy
    (SNOMED, "237364002"),  # stillbirth
]

POSTNATAL = [
    (ICD10, "Z39.0"),  # care immediately after delivery
    (ICD10, "Z39.2"),  # routine postpartum follow-up
    (ICD10, "Z37.0"),  # outcome of delivery: single live birth
    (ICD10, "O80.0"),  # spontaneous vertex delivery
    (ICD10, "O82.1"),  # delivery by emergency caesarean section
    (ICD10, "O85"),  # puerperal sepsis
    (ICD10, "O90.3"),  # cardiomyopathy in the puerperium
    (ICD10, "O72.1"),  # postpartum haemorrhage
    (ICD10, "O15.2"),  # eclampsia in the puerperium
    (SNOMED, "86569001"),  # postpartum state
    (SNOMED, "169826009"),  # single live birth
    (SNOMED, "236973005"),  # delivery procedure
]

PREGNANT = [
    (ICD10, "Z34.0"),  # supervision of normal first pregnancy
    (ICD10, "Z33"),  # pregnant state, incidental
    (ICD10, "O24.4"),  # diabetes arising in pregnancy
    (ICD10, "O60.0"),  # preterm labour without delivery
    (ICD10, "O07.4"),  # failed attempted abortion: the pregnancy may continue
    (SNOMED, "77386006"),  # pregnant
    (SNOMED, "72892002"),  # normal pregnancy
]

TOBACCO = [
    (ICD10, "F17.0"),
    (ICD10, "F17.1"),
    (ICD10, "F17.2"),
    ("I10", "F172"),
    (SNOMED, "77176002"),  # smoker
    (SNOMED, "65568007"),  # cigarette smoker
    (SNOMED, "56294008"),  # nicotine dependence
    (SNOMED, "89765005"),  # tobacco dependence syndrome
]

ANXIETY = [
    (ICD10, "F41.0"),  # panic disorder
    (ICD10, "F41.1"),  # generalised anxiety disorder
    (ICD10, "F41.9"),
    (SNOMED, "197480006"),  # anxiety disorder
    (SNOMED, "21897009"),  # generalised anxiety disorder
]

PSYCHOSIS = [
    (ICD10, "F20.0"),  # paranoid schizophrenia
    (ICD10, "F23.1"),
    (ICD10, "F29"),
    (SNOMED, "58214004"),  # schizophrenia
    (SNOMED, "69322001"),  # psychotic disorder
]


def ids(codings: list[Coding]) -> list[str]:
    return [f"{'sct' if s == SNOMED else 'icd10'}-{c}" for s, c in codings]


# A pregnancy that has ended ----------------------------------------------------------------


@pytest.mark.parametrize(("system", "code"), ENDED, ids=ids(ENDED))
def test_ended_pregnancy_code_is_classified_as_pregnancy_ended(
    config: TrustConfig, system: str, code: str
) -> None:
    assert config.code_lists.classify(system, code) is IndicatorKind.PREGNANCY_ENDED


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), ENDED, ids=ids(ENDED))
def test_ended_pregnancy_never_makes_the_patient_pregnant(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    contact = contact_via(engine, path, [(system, code)])
    assert contact.pregnant is not True
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert [i.kind for i in result.indicators] == [IndicatorKind.PREGNANCY_ENDED]
    assert not any(c.unborn for c in result.children)
    assert result.prompt(PromptCode.CONSIDER_UNBORN) is None


@pytest.mark.parametrize(("system", "code"), [(ICD10, "O03.9"), (SNOMED, "17369002")])
def test_host_calling_an_ended_pregnancy_a_pregnancy_is_overruled_by_the_code(
    engine: ThinkFamily, make_contact: MakeContact, system: str, code: str
) -> None:
    contact = make_contact(indicators=[indicator(IndicatorKind.PREGNANCY, system, code)])
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert [i.kind for i in result.indicators] == [IndicatorKind.PREGNANCY_ENDED]
    assert result.prompt(PromptCode.CONSIDER_UNBORN) is None


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), PREGNANT, ids=ids(PREGNANT))
def test_current_pregnancy_code_still_adds_an_unborn_child(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    result = assess_via(engine, path, [(system, code)])
    assert any(c.unborn for c in result.children)
    assert result.prompt(PromptCode.CONSIDER_UNBORN) is not None


# A recent birth ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), POSTNATAL, ids=ids(POSTNATAL))
def test_postnatal_code_gives_a_postnatal_indicator_and_no_unborn_child(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    contact = contact_via(engine, path, [(system, code)])
    assert contact.pregnant is not True
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert [i.kind for i in result.indicators] == [IndicatorKind.POSTNATAL]
    assert not any(c.unborn for c in result.children)


@pytest.mark.parametrize("code", ["Z37.1", "Z37.4", "Z37.7"])
def test_stillbirth_outcome_is_a_pregnancy_that_has_ended_not_a_recent_birth(
    config: TrustConfig, code: str
) -> None:
    assert config.code_lists.classify(ICD10, code) is IndicatorKind.PREGNANCY_ENDED
    assert config.code_lists.classify(ICD10, "Z37.0") is IndicatorKind.POSTNATAL


# Tobacco ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), TOBACCO, ids=ids(TOBACCO))
def test_tobacco_is_not_substance_misuse(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    assert engine.config.code_lists.classify(system, code) is None
    result = assess_via(engine, path, [(system, code)])
    assert IndicatorKind.SUBSTANCE_MISUSE not in {i.kind for i in result.indicators}
    prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None
    assert (prompt.severity, prompt.severity_reason) == (Severity.INFO, NO_RISK_REASON)


@pytest.mark.parametrize(
    ("system", "code", "label"),
    [
        (ICD10, "F10.2", "Alcohol misuse"),
        (ICD10, "F11.2", "Drug misuse"),
        (ICD10, "F19.1", "Drug misuse"),
        (SNOMED, "66590003", "Alcohol misuse"),
    ],
)
def test_alcohol_and_drug_misuse_still_give_warning(
    engine: ThinkFamily, system: str, code: str, label: str
) -> None:
    prompt = assess_via(engine, "json", [(system, code)]).prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None
    assert (prompt.severity, prompt.severity_reason) == (
        Severity.WARNING,
        f"{label} in the record",
    )


# Anxiety and psychosis ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), ANXIETY, ids=ids(ANXIETY))
def test_anxiety_alone_gives_info_with_its_reason(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    prompt = assess_via(engine, path, [(system, code)]).prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None
    assert prompt.severity is Severity.INFO
    assert prompt.severity_reason == "Anxiety in the record; no higher risk factor"


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(("system", "code"), PSYCHOSIS, ids=ids(PSYCHOSIS))
def test_psychosis_alone_gives_warning(
    engine: ThinkFamily, path: str, system: str, code: str
) -> None:
    prompt = assess_via(engine, path, [(system, code)]).prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None
    assert (prompt.severity, prompt.severity_reason) == (
        Severity.WARNING,
        "Psychosis in the record",
    )


@pytest.mark.parametrize(
    ("anxiety", "psychosis"), list(zip(ANXIETY, PSYCHOSIS, strict=True)), ids=ids(ANXIETY)
)
def test_anxiety_with_alcohol_stays_warning_where_psychosis_with_alcohol_is_critical(
    engine: ThinkFamily, anxiety: Coding, psychosis: Coding
) -> None:
    alcohol = (ICD10, "F10.2")
    calm = assess_via(engine, "json", [anxiety, alcohol]).prompt(PromptCode.CONSIDER_CHILDREN)
    grave = assess_via(engine, "json", [psychosis, alcohol]).prompt(PromptCode.CONSIDER_CHILDREN)
    assert calm is not None and grave is not None
    assert (calm.severity, calm.severity_reason) == (
        Severity.WARNING,
        "Alcohol misuse in the record",
    )
    assert (grave.severity, grave.severity_reason) == (
        Severity.CRITICAL,
        "Psychosis and alcohol misuse together in the record",
    )


def test_host_named_mental_health_with_an_anxiety_code_takes_the_lower_weight(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    contact = make_contact(
        household=[member(date(2016, 6, 1))],
        indicators=[indicator(IndicatorKind.MENTAL_HEALTH, "ICD10", "F41.1")],
    )
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None and prompt.severity is Severity.INFO


# Weights that stand alone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "reason"),
    [
        (LOCAL, "MARAC", "High-risk domestic abuse (MARAC) in the record"),
        (ICD10, "F53.1", "Psychosis after childbirth in the record"),
        (LOCAL, "CPP", "Child protection flag in the record"),
    ],
)
def test_a_critical_entry_alone_gives_critical(
    engine: ThinkFamily, system: str, code: str, reason: str
) -> None:
    prompt = assess_via(engine, "json", [(system, code)]).prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None
    assert (prompt.severity, prompt.severity_reason) == (Severity.CRITICAL, reason)


def test_child_protection_flag_is_critical_whatever_weight_the_host_gives(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    flag = RiskIndicator(IndicatorKind.CHILD_PROTECTION, weight=Severity.INFO)
    contact = make_contact(household=[member(date(2016, 6, 1))], indicators=[flag])
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None and prompt.severity is Severity.CRITICAL


def test_pregnancy_kinds_never_raise_severity(engine: ThinkFamily) -> None:
    codings = [(ICD10, "Z34.0"), (ICD10, "O03.9"), (ICD10, "Z39.0")]
    result = assess_via(engine, "json", codings)
    for code in (PromptCode.CONSIDER_CHILDREN, PromptCode.CONSIDER_UNBORN):
        prompt = result.prompt(code)
        assert prompt is not None
        assert (prompt.severity, prompt.severity_reason) == (Severity.INFO, NO_RISK_REASON)


def test_consider_unborn_carries_the_same_severity_and_reason(engine: ThinkFamily) -> None:
    result = assess_via(engine, "json", [(ICD10, "Z34.0"), (ICD10, "F20.0"), (ICD10, "T74.1")])
    unborn = result.prompt(PromptCode.CONSIDER_UNBORN)
    children = result.prompt(PromptCode.CONSIDER_CHILDREN)
    assert unborn is not None and children is not None
    assert (unborn.severity, unborn.severity_reason) == (
        Severity.CRITICAL,
        "Psychosis and abuse or maltreatment together in the record",
    )
    assert (children.severity, children.severity_reason) == (
        unborn.severity,
        unborn.severity_reason,
    )


# What an indicator carries ------------------------------------------------------------------


def test_classified_indicator_carries_the_weight_rationale_and_label_of_its_list(
    engine: ThinkFamily,
) -> None:
    (found,) = assess_via(engine, "hl7", [("I10", "F41.1")]).indicators
    assert (found.kind, found.weight, found.label) == (
        IndicatorKind.MENTAL_HEALTH,
        Severity.INFO,
        "anxiety",
    )
    assert "Anxiety" in found.rationale


@pytest.mark.parametrize("kind", list(IndicatorKind), ids=[k.value for k in IndicatorKind])
def test_host_kind_without_weight_gets_the_default_for_its_kind(
    engine: ThinkFamily, make_contact: MakeContact, kind: IndicatorKind
) -> None:
    contact = make_contact(indicators=[indicator(kind)])
    (found,) = engine.assess(contact, now=contact.occurred_at, present=False).indicators
    if kind is IndicatorKind.OTHER:
        assert found.weight is None  # nothing classified it: it weighs nothing
    else:
        assert found.weight is DEFAULTS[kind].weight
        assert found.rationale == DEFAULTS[kind].rationale


def test_host_weight_is_kept(engine: ThinkFamily, make_contact: MakeContact) -> None:
    heavy = RiskIndicator(IndicatorKind.SUBSTANCE_MISUSE, weight=Severity.CRITICAL, label="heroin")
    contact = make_contact(household=[member(date(2016, 6, 1))], indicators=[heavy])
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.CONSIDER_CHILDREN
    )
    assert prompt is not None
    assert (prompt.severity, prompt.severity_reason) == (
        Severity.CRITICAL,
        "Heroin in the record",
    )
