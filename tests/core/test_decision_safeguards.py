"""Decisions that must not pass as they stand: a thin reason for not sharing at level 3 or 4,
no lead to escalate to, consent chosen as the basis without a second thought, advice recorded
half-way, a LADO concern that does not say which criteria it meets.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import (
    AdviceSought,
    Consent,
    Decision,
    EscalationKind,
    LadoCriterion,
    LawfulBasis,
    Lead,
    Professional,
    Route,
)
from plugin_core.rules.decide import MIN_NOT_SHARING_WORDS, DecisionInvalid, FieldProblem, validate
from plugin_core.rules.escalate import UNCONFIGURED_LEAD, escalation_id, escalations_for
from plugin_core.rules.routing import routes_for
from plugin_core.settings.config import TrustConfig

from .builders import utc
from .test_decisions import SHARING as SHARING_DECISION

DECIDED_AT = utc(2026, 3, 2, 10, 30)
LEAD = Lead("Jo Example", role="Named nurse for safeguarding children")
TEN_WORDS = "Children live with their father, who is caring for them."
ONE_WORD = "Fine."

SHARING = replace(SHARING_DECISION, id="decision-s")

NOT_SHARING_AT_3 = Decision(
    id="decision-n",
    contact_id="contact-1",
    decided_by=Professional("nurse-7"),
    decided_at=DECIDED_AT,
    share=False,
    reasons=TEN_WORDS,
    level_of_need=3,
    escalated_to=LEAD,
)

ADVICE = AdviceSought(
    name="Sam Adviser",
    role="Named nurse for safeguarding children",
    sought_at=DECIDED_AT - timedelta(minutes=40),
    advice="Share with children's services today; consent need not be sought.",
)


def problems(decision: Decision) -> list[FieldProblem]:
    with pytest.raises(DecisionInvalid) as caught:
        validate(decision)
    return caught.value.problems


def fields(decision: Decision) -> list[str]:
    return [p.field for p in problems(decision)]


def reason_for(decision: Decision, field: str) -> str:
    found = [p.reason for p in problems(decision) if p.field == field]
    assert len(found) == 1, problems(decision)
    return found[0]


# Not sharing at level 3 or 4 ---------------------------------------------------------------------


def test_ten_words_is_the_stated_minimum() -> None:
    assert MIN_NOT_SHARING_WORDS == 10
    assert len(TEN_WORDS.split()) == 10


@pytest.mark.parametrize("level", [3, 4])
def test_one_word_reason_for_not_sharing_at_level_3_or_4_is_refused_saying_what_is_needed(
    level: int,
) -> None:
    decision = replace(
        NOT_SHARING_AT_3,
        level_of_need=level,
        reasons=ONE_WORD,
        no_action_override_reason="Social worker already with the family on the ward.",
    )
    assert problems(decision) == [
        FieldProblem(
            "reasons",
            f"at level {level}, say in at least 10 words why not sharing is right for the child "
            "(you wrote 1)",
        )
    ]


def test_nine_words_are_too_few_and_ten_are_enough() -> None:
    nine = "Children live with their father, who is caring well."
    assert reason_for(replace(NOT_SHARING_AT_3, reasons=nine), "reasons").endswith("(you wrote 9)")
    validate(replace(NOT_SHARING_AT_3, reasons=TEN_WORDS))


def test_punctuation_and_symbols_do_not_count_as_words() -> None:
    padded = "No - - - - - - - - - ; ; ; concerns."
    assert "(you wrote 2)" in reason_for(replace(NOT_SHARING_AT_3, reasons=padded), "reasons")


def test_empty_reasons_are_reported_once_not_twice() -> None:
    assert fields(replace(NOT_SHARING_AT_3, reasons="  ")) == ["reasons"]


@pytest.mark.parametrize("level", [3, 4])
def test_not_sharing_at_level_3_or_4_without_a_named_lead_is_refused(level: int) -> None:
    decision = replace(
        NOT_SHARING_AT_3,
        level_of_need=level,
        escalated_to=None,
        no_action_override_reason="Social worker already with the family on the ward.",
    )
    assert problems(decision) == [
        FieldProblem(
            "escalated_to",
            f"at level {level}, not sharing must be escalated: name the safeguarding lead you "
            "told, with their role or contact",
        )
    ]


@pytest.mark.parametrize("level", [1, 2])
def test_not_sharing_at_level_1_or_2_needs_neither_ten_words_nor_a_lead(level: int) -> None:
    validate(replace(NOT_SHARING_AT_3, level_of_need=level, reasons=ONE_WORD, escalated_to=None))


def test_not_sharing_at_level_3_with_ten_words_and_a_named_lead_is_valid() -> None:
    validate(NOT_SHARING_AT_3)


def test_a_lead_without_a_name_is_refused() -> None:
    decision = replace(NOT_SHARING_AT_3, escalated_to=Lead(" ", role="Named nurse"))
    assert problems(decision) == [
        FieldProblem("escalated_to.name", "give the safeguarding lead's name")
    ]


def test_a_lead_with_neither_role_nor_contact_is_refused() -> None:
    assert fields(replace(NOT_SHARING_AT_3, escalated_to=Lead("Jo Example"))) == [
        "escalated_to.role"
    ]


@pytest.mark.parametrize(
    "lead",
    [
        Lead("Jo Example", role="Named nurse"),
        Lead("Jo Example", contact="020 7000 0000"),
        Lead("Jo Example", contact="jo.example@trust.example"),
    ],
    ids=["role", "phone", "email"],
)
def test_a_lead_with_a_name_and_a_role_or_contact_is_enough(lead: Lead) -> None:
    validate(replace(NOT_SHARING_AT_3, escalated_to=lead))


# Consent as the lawful basis ---------------------------------------------------------------------


def test_consent_as_the_basis_without_confirmation_is_refused_explaining_why() -> None:
    reason = reason_for(
        replace(SHARING, lawful_basis=LawfulBasis.CONSENT), "consent_basis_confirmed"
    )
    assert reason.startswith("consent is rarely the right basis for safeguarding")
    assert "public task or legal obligation usually is" in reason


def test_consent_as_the_basis_with_confirmation_is_accepted() -> None:
    validate(replace(SHARING, lawful_basis=LawfulBasis.CONSENT, consent_basis_confirmed=True))


@pytest.mark.parametrize(
    "basis",
    [LawfulBasis.PUBLIC_TASK, LawfulBasis.LEGAL_OBLIGATION, LawfulBasis.VITAL_INTERESTS],
    ids=lambda b: b.value,
)
def test_other_bases_need_no_confirmation(basis: LawfulBasis) -> None:
    validate(replace(SHARING, lawful_basis=basis, consent_basis_confirmed=False))


def test_confirming_consent_does_not_make_it_a_basis_when_consent_was_refused() -> None:
    decision = replace(
        SHARING,
        lawful_basis=LawfulBasis.CONSENT,
        consent=Consent.REFUSED,
        consent_basis_confirmed=True,
    )
    assert fields(decision) == ["lawful_basis"]


# Advice sought -----------------------------------------------------------------------------------


def test_advice_sought_is_optional() -> None:
    validate(SHARING)
    validate(NOT_SHARING_AT_3)


@pytest.mark.parametrize("base", [SHARING, NOT_SHARING_AT_3], ids=["sharing", "not-sharing"])
def test_advice_from_a_named_person_with_time_and_content_is_valid(base: Decision) -> None:
    validate(replace(base, advice_sought=ADVICE))


def test_advice_with_only_a_role_for_who_is_valid() -> None:
    validate(replace(SHARING, advice_sought=replace(ADVICE, name="")))


def test_advice_without_who_when_or_what_lists_each_missing_part() -> None:
    assert problems(replace(SHARING, advice_sought=AdviceSought())) == [
        FieldProblem("advice_sought.name", "say who gave the advice: their name or role"),
        FieldProblem("advice_sought.sought_at", "say when the advice was sought"),
        FieldProblem("advice_sought.advice", "record what they advised"),
    ]


def test_advice_dated_after_the_decision_is_refused_but_a_few_minutes_of_clock_skew_is_not() -> (
    None
):
    later = replace(ADVICE, sought_at=DECIDED_AT + timedelta(hours=1))
    assert problems(replace(SHARING, advice_sought=later)) == [
        FieldProblem("advice_sought.sought_at", "cannot be later than the decision")
    ]
    skewed = replace(ADVICE, sought_at=DECIDED_AT + timedelta(minutes=2))
    validate(replace(SHARING, advice_sought=skewed))


def test_advice_text_stays_out_of_its_repr_as_it_may_name_the_patient() -> None:
    assert "Share with children" not in repr(ADVICE)
    assert "Named nurse" in repr(ADVICE)


# LADO criteria -----------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [True, False], ids=["sharing", "not-sharing"])
def test_lado_concern_without_criteria_is_refused(share: bool) -> None:
    decision = replace(
        SHARING,
        share=share,
        concerns_person_working_with_children=True,
        no_action_override_reason="The LADO already knows; the employer referred yesterday.",
        level_of_need=2,
    )
    assert FieldProblem(
        "lado_criteria", "choose which of the LADO criteria the concern meets"
    ) in problems(decision)


@pytest.mark.parametrize("criterion", list(LadoCriterion), ids=lambda c: c.value)
def test_lado_concern_with_any_one_criterion_is_valid_and_goes_to_the_lado(
    criterion: LadoCriterion,
) -> None:
    decision = replace(
        SHARING, concerns_person_working_with_children=True, lado_criteria=(criterion,)
    )
    validate(decision)
    assert Route.LADO in routes_for(decision)


def test_the_four_criteria_include_suitability_for_transferable_risk() -> None:
    assert [c.value for c in LadoCriterion] == [
        "harmed_child",
        "criminal_offence",
        "risk_of_harm",
        "not_suitable",
    ]


def test_criteria_without_the_lado_concern_are_refused() -> None:
    decision = replace(SHARING, lado_criteria=(LadoCriterion.CRIMINAL_OFFENCE,))
    assert fields(decision) == ["concerns_person_working_with_children"]


# Reading the new fields from JSON ----------------------------------------------------------------


def read(doc: dict[str, Any]) -> Decision:
    base: dict[str, Any] = {
        "id": "d-json",
        "decided_by": {"id": "nurse-7"},
        "share": True,
        "level_of_need": 3,
        "reasons": "Parent intoxicated on admission; child of 9 at home alone.",
    }
    return decision_from_dict(base | doc, contact_id="contact-1", now=DECIDED_AT)


def json_problems(doc: dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(DecisionInvalid) as caught:
        read(doc)
    return caught.value.problems


def test_json_criteria_alone_mean_the_concern_is_about_someone_who_works_with_children() -> None:
    decision = read({"lado_criteria": ["not_suitable", "harmed_child", "not_suitable"]})
    assert decision.concerns_person_working_with_children is True
    assert decision.lado_criteria == (LadoCriterion.NOT_SUITABLE, LadoCriterion.HARMED_CHILD)


def test_json_old_yes_no_is_still_read_but_refused_without_criteria() -> None:
    decision = read({"concerns_person_working_with_children": True})
    assert decision.concerns_person_working_with_children is True
    assert "lado_criteria" in [p.field for p in problems(decision)]


def test_json_unknown_criterion_is_named_by_its_position() -> None:
    found = json_problems({"lado_criteria": ["harmed_child", "rude"]})
    assert [p.field for p in found] == ["lado_criteria[1]"]
    assert "harmed_child, criminal_offence, risk_of_harm, not_suitable" in found[0].reason


def test_json_consent_confirmation_must_be_true_or_false() -> None:
    found = json_problems({"consent_basis_confirmed": "yes"})
    assert found == [FieldProblem("consent_basis_confirmed", "must be true or false")]
    assert read({"consent_basis_confirmed": True}).consent_basis_confirmed is True


def test_json_advice_is_read_with_its_time_zone() -> None:
    decision = read(
        {
            "advice_sought": {
                "name": "Sam Adviser",
                "role": "Named nurse",
                "sought_at": "2026-03-02T09:50:00+00:00",
                "advice": "Refer today.",
            }
        }
    )
    assert decision.advice_sought == AdviceSought(
        "Sam Adviser", "Named nurse", utc(2026, 3, 2, 9, 50), "Refer today."
    )


@pytest.mark.parametrize("when", ["2026-03-02T09:50:00", "yesterday", "02/03/2026 09:50"])
def test_json_advice_time_without_a_zone_or_unreadable_is_refused(when: str) -> None:
    found = json_problems({"advice_sought": {"name": "Sam", "sought_at": when, "advice": "x"}})
    assert [p.field for p in found] == ["advice_sought.sought_at"]
    assert "2026-03-02T10:30:00+00:00" in found[0].reason


def test_json_escalated_to_is_read_and_an_empty_one_is_none() -> None:
    decision = read({"escalated_to": {"name": "Jo Example", "contact": "020 7000 0000"}})
    assert decision.escalated_to == Lead("Jo Example", "", "020 7000 0000")
    assert read({"escalated_to": {}}).escalated_to is None
    assert json_problems({"escalated_to": "Jo"}) == [
        FieldProblem("escalated_to", "must be an object")
    ]
    assert json_problems({"escalated_to": {"name": 7}}) == [
        FieldProblem("escalated_to.name", "must be text")
    ]


# Which escalations a decision makes --------------------------------------------------------------


def test_not_sharing_at_level_3_escalates_to_the_named_lead_only(config: TrustConfig) -> None:
    (escalation,) = escalations_for(NOT_SHARING_AT_3, lead=config.safeguarding_lead, now=DECIDED_AT)
    assert escalation.kind is EscalationKind.NOT_SHARED
    assert escalation.lead == LEAD
    assert (escalation.decision_id, escalation.contact_id) == ("decision-n", "contact-1")
    assert escalation.escalated_by == "nurse-7" and escalation.level_of_need == 3


def test_level_4_override_alerts_the_configured_trust_lead_as_well(config: TrustConfig) -> None:
    decision = replace(
        NOT_SHARING_AT_3,
        level_of_need=4,
        no_action_override_reason="Social worker already with the family on the ward.",
    )
    named, override = escalations_for(decision, lead=config.safeguarding_lead, now=DECIDED_AT)
    assert named.kind is EscalationKind.NOT_SHARED and named.lead == LEAD
    assert override.kind is EscalationKind.OVERRIDE
    assert override.lead == Lead(
        "Example Named Nurse",
        "Named nurse for safeguarding children",
        "020 7000 0000; safeguarding@example-trust.nhs.uk",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"immediate_danger": True},
        {
            "concerns_person_working_with_children": True,
            "lado_criteria": (LadoCriterion.RISK_OF_HARM,),
        },
    ],
    ids=["immediate-danger", "lado"],
)
def test_other_overrides_alert_the_trust_lead(config: TrustConfig, change: dict[str, Any]) -> None:
    decision = replace(
        NOT_SHARING_AT_3,
        level_of_need=2,
        escalated_to=None,
        no_action_override_reason="Police already attending; the family is with them now.",
        **change,
    )
    validate(decision)
    (escalation,) = escalations_for(decision, lead=config.safeguarding_lead, now=DECIDED_AT)
    assert escalation.kind is EscalationKind.OVERRIDE
    assert escalation.lead.name == "Example Named Nurse"


def test_sharing_and_not_sharing_at_low_levels_escalate_nothing(config: TrustConfig) -> None:
    lead = config.safeguarding_lead
    assert escalations_for(SHARING, lead=lead, now=DECIDED_AT) == ()
    low = replace(NOT_SHARING_AT_3, level_of_need=1, escalated_to=None)
    assert escalations_for(low, lead=lead, now=DECIDED_AT) == ()


def test_without_a_configured_lead_the_override_is_still_recorded_for_someone() -> None:
    decision = replace(
        NOT_SHARING_AT_3, level_of_need=4, no_action_override_reason="Already referred by GP."
    )
    kinds = {e.kind: e.lead for e in escalations_for(decision, lead=None, now=DECIDED_AT)}
    assert kinds[EscalationKind.OVERRIDE] == UNCONFIGURED_LEAD


def test_escalation_ids_are_stable_per_decision_and_kind(config: TrustConfig) -> None:
    first = escalations_for(NOT_SHARING_AT_3, lead=config.safeguarding_lead, now=DECIDED_AT)
    again = escalations_for(
        NOT_SHARING_AT_3, lead=config.safeguarding_lead, now=DECIDED_AT + timedelta(hours=1)
    )
    assert [e.id for e in first] == [e.id for e in again]
    assert first[0].id == escalation_id("decision-n", EscalationKind.NOT_SHARED)
    assert escalation_id("decision-n", EscalationKind.OVERRIDE) != first[0].id
