"""Checking information-sharing decisions, and the referrals a valid one makes (issue 2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from plugin_core.model import (
    Consent,
    Decision,
    LadoCriterion,
    LawfulBasis,
    Lead,
    ModelError,
    Professional,
    Route,
)
from plugin_core.rules.decide import (
    DecisionInvalid,
    FieldProblem,
    idempotency_key,
    make_referrals,
    validate,
)
from plugin_core.settings.config import TrustConfig

from .builders import utc

DECIDED_AT = utc(2026, 3, 2, 10, 30)

SHARING = Decision(
    id="decision-1",
    contact_id="contact-1",
    decided_by=Professional("nurse-7", role="staff nurse"),
    decided_at=DECIDED_AT,
    share=True,
    reasons="Parent intoxicated on admission; child of 9 at home alone.",
    level_of_need=3,
    lawful_basis=LawfulBasis.PUBLIC_TASK,
    consent=Consent.GIVEN,
    what_shared="Admission reason and household details.",
    authority_id="islington",
)

NOT_SHARING = Decision(
    id="decision-2",
    contact_id="contact-1",
    decided_by=Professional("nurse-7"),
    decided_at=DECIDED_AT,
    share=False,
    reasons="Children live with the other parent; no concerns about their care.",
    level_of_need=1,
)


LEAD = Lead("Jo Example", role="Named nurse for safeguarding children")


def problems(decision: Decision, known_authority: str | None = None) -> list[FieldProblem]:
    with pytest.raises(DecisionInvalid) as caught:
        validate(decision, known_authority=known_authority)
    return caught.value.problems


def only_problem(decision: Decision, known_authority: str | None = None) -> FieldProblem:
    found = problems(decision, known_authority)
    assert len(found) == 1, found
    return found[0]


# Problems common to every decision -------------------------------------------------------------


@pytest.mark.parametrize("base", [SHARING, NOT_SHARING], ids=["sharing", "not-sharing"])
def test_decision_without_a_decider_is_refused(base: Decision) -> None:
    found = only_problem(replace(base, decided_by=Professional("  ")))
    assert found == FieldProblem("decided_by", "say who made the decision")


@pytest.mark.parametrize("base", [SHARING, NOT_SHARING], ids=["sharing", "not-sharing"])
def test_decision_without_reasons_is_refused_whether_sharing_or_not(base: Decision) -> None:
    found = only_problem(replace(base, reasons=" \n"))
    assert found == FieldProblem(
        "reasons", "record the reasons for the decision, whether sharing or not"
    )


def test_decision_without_a_level_of_need_is_refused() -> None:
    found = only_problem(replace(NOT_SHARING, level_of_need=None))
    assert found == FieldProblem("level_of_need", "choose a level of need from 1 to 4")


@pytest.mark.parametrize("level", [0, 5, -1])
def test_level_of_need_outside_1_to_4_is_refused(level: int) -> None:
    found = only_problem(replace(NOT_SHARING, level_of_need=level))
    assert found == FieldProblem("level_of_need", "must be 1, 2, 3 or 4")


def test_decision_with_a_naive_time_cannot_be_made() -> None:
    with pytest.raises(ModelError, match="decided_at must carry a time zone"):
        replace(SHARING, decided_at=DECIDED_AT.replace(tzinfo=None))


# Problems of a sharing decision ----------------------------------------------------------------


def test_sharing_without_a_lawful_basis_is_refused() -> None:
    found = only_problem(replace(SHARING, lawful_basis=None))
    assert found == FieldProblem("lawful_basis", "name the lawful basis for sharing")


def test_sharing_without_saying_whether_consent_was_sought_is_refused() -> None:
    found = only_problem(replace(SHARING, consent=None))
    assert found == FieldProblem("consent", "say whether consent was sought and the answer")


def test_sharing_without_consent_sought_needs_a_reason() -> None:
    found = only_problem(replace(SHARING, consent=Consent.NOT_SOUGHT))
    assert found.field == "consent_not_sought_reason"
    assert found.reason.startswith("say why consent was not sought")


@pytest.mark.parametrize("consent", [Consent.REFUSED, Consent.NOT_SOUGHT, None])
def test_consent_is_the_lawful_basis_only_when_consent_was_given(consent: Consent | None) -> None:
    decision = replace(
        SHARING,
        lawful_basis=LawfulBasis.CONSENT,
        consent=consent,
        consent_not_sought_reason="asking would put the child at risk",
    )
    assert FieldProblem(
        "lawful_basis", "consent is the basis only when consent was given"
    ) in problems(decision)


def test_sharing_at_level_1_is_refused() -> None:
    found = only_problem(replace(SHARING, level_of_need=1))
    assert found == FieldProblem(
        "level_of_need", "level 1 needs no referral; choose a higher level or do not share"
    )


def test_sharing_without_a_confirmed_authority_is_refused() -> None:
    found = only_problem(replace(SHARING, authority_id=None))
    assert found == FieldProblem("authority_id", "confirm which local authority to refer to")


def test_authority_from_the_assessment_is_enough_for_sharing() -> None:
    validate(replace(SHARING, authority_id=None), known_authority="islington")


def test_sharing_without_saying_what_is_shared_is_refused() -> None:
    found = only_problem(replace(SHARING, what_shared=""))
    assert found == FieldProblem("what_shared", "record what information is shared")


def test_every_problem_is_listed_at_once() -> None:
    empty = replace(
        SHARING,
        decided_by=Professional(""),
        reasons="",
        level_of_need=None,
        lawful_basis=None,
        consent=None,
        what_shared="",
    )
    found = problems(empty)
    assert [p.field for p in found] == [
        "decided_by",
        "reasons",
        "level_of_need",
        "lawful_basis",
        "consent",
        "what_shared",
    ]
    with pytest.raises(DecisionInvalid, match="decided_by: say who made the decision; reasons:"):
        validate(empty)


# Problems of a decision not to share -----------------------------------------------------------


def test_not_sharing_at_level_4_needs_an_override_reason() -> None:
    found = only_problem(replace(NOT_SHARING, level_of_need=4, escalated_to=LEAD))
    assert found.field == "no_action_override_reason"
    assert found.reason.startswith("level 4 or immediate danger needs a referral")


def test_not_sharing_in_immediate_danger_needs_an_override_reason() -> None:
    found = only_problem(replace(NOT_SHARING, immediate_danger=True))
    assert found.field == "no_action_override_reason"
    assert "immediate danger" in found.reason


def test_not_sharing_a_concern_about_someone_working_with_children_needs_an_override_reason() -> (
    None
):
    found = only_problem(
        replace(
            NOT_SHARING,
            concerns_person_working_with_children=True,
            lado_criteria=(LadoCriterion.HARMED_CHILD,),
        )
    )
    assert found.field == "no_action_override_reason"
    assert "LADO" in found.reason


# Valid decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", list(LawfulBasis), ids=[b.value for b in LawfulBasis])
def test_sharing_with_each_lawful_basis_is_valid(basis: LawfulBasis) -> None:
    validate(replace(SHARING, lawful_basis=basis, consent_basis_confirmed=True))


def test_sharing_when_consent_was_refused_is_valid_on_public_task() -> None:
    validate(replace(SHARING, consent=Consent.REFUSED))


def test_sharing_without_seeking_consent_is_valid_with_a_reason() -> None:
    validate(
        replace(
            SHARING,
            consent=Consent.NOT_SOUGHT,
            consent_not_sought_reason="Asking would put the child at risk of significant harm.",
        )
    )


@pytest.mark.parametrize("level", [1, 2])
def test_not_sharing_with_reasons_is_valid(level: int) -> None:
    validate(replace(NOT_SHARING, level_of_need=level))


def test_not_sharing_at_level_4_with_an_override_reason_is_valid() -> None:
    validate(
        replace(
            NOT_SHARING,
            level_of_need=4,
            no_action_override_reason="Children's social care already present on the ward.",
            escalated_to=LEAD,
        )
    )


def test_sharing_at_level_1_is_valid_for_immediate_danger() -> None:
    validate(replace(SHARING, level_of_need=1, immediate_danger=True))


# Referrals made by a valid decision -------------------------------------------------------------


def test_not_sharing_makes_no_referral(config: TrustConfig) -> None:
    assert (
        make_referrals(NOT_SHARING, authority_id="islington", rules=config.rules, now=DECIDED_AT)
        == ()
    )


def test_level_3_referral_is_routine_with_the_routine_acknowledgement_window(
    config: TrustConfig,
) -> None:
    (referral,) = make_referrals(SHARING, authority_id=None, rules=config.rules, now=DECIDED_AT)
    assert referral.route is Route.FRONT_DOOR
    assert referral.urgent is False
    # 24 working hours from 10:30 on Monday 2 March, at 09:00-17:00: 10:30 on Thursday.
    assert config.urgency.routine_ack_hours == 24
    assert referral.due_by == utc(2026, 3, 5, 10, 30)
    assert referral.authority_id == "islington"


def test_level_4_referral_is_urgent_with_the_urgent_acknowledgement_window(
    config: TrustConfig,
) -> None:
    (referral,) = make_referrals(
        replace(SHARING, level_of_need=4), authority_id=None, rules=config.rules, now=DECIDED_AT
    )
    assert referral.urgent is True
    assert referral.due_by == DECIDED_AT + timedelta(minutes=config.urgency.urgent_ack_minutes)


def test_authority_confirmed_in_the_decision_beats_the_assessment(config: TrustConfig) -> None:
    (referral,) = make_referrals(
        replace(SHARING, authority_id="hackney"),
        authority_id="islington",
        rules=config.rules,
        now=DECIDED_AT,
    )
    assert referral.authority_id == "hackney"


def test_referral_idempotency_key_is_stable_for_a_decision_and_route(config: TrustConfig) -> None:
    first = make_referrals(SHARING, authority_id=None, rules=config.rules, now=DECIDED_AT)
    again = make_referrals(
        SHARING, authority_id=None, rules=config.rules, now=DECIDED_AT + timedelta(minutes=5)
    )
    assert [r.idempotency_key for r in first] == [r.idempotency_key for r in again]
    assert first[0].idempotency_key == idempotency_key("decision-1", Route.FRONT_DOOR)
    assert idempotency_key("decision-1", Route.LADO) != first[0].idempotency_key


def test_sharing_with_an_authority_outside_the_directory_is_refused() -> None:
    decision = replace(SHARING, authority_id="atlantis")
    found = [p for p in _problems_with_directory(decision) if p.field == "authority_id"]
    assert [p.reason for p in found] == ["is not a local authority in the trust's directory"]


def _problems_with_directory(decision: Decision) -> list[FieldProblem]:
    try:
        validate(decision, directory={"islington", "redbridge"})
    except DecisionInvalid as exc:
        return exc.problems
    return []
