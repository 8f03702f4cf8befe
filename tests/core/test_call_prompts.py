"""What the professional is told when a referral needs a phone call: real numbers, never guesses."""

from __future__ import annotations

from datetime import timedelta

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Consent, Decision, LawfulBasis, Professional, PromptCode, Severity
from plugin_core.rules.decide import make_referrals

from .builders import utc

MONDAY_10 = utc(2026, 3, 2, 10, 0)
SATURDAY_NIGHT = utc(2026, 3, 7, 23, 0)


def _referral(engine: ThinkFamily, authority: str, *, level: int = 4, danger: bool = False):  # type: ignore[no-untyped-def]
    decision = Decision(
        id="d-call",
        contact_id="c-call",
        decided_by=Professional("nurse-1"),
        decided_at=MONDAY_10,
        share=True,
        reasons="Child at risk.",
        level_of_need=level,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        consent=Consent.NOT_SOUGHT,
        consent_not_sought_reason="Asking would put the child at risk.",
        immediate_danger=danger,
        what_shared="Admission.",
        authority_id=authority,
    )
    return make_referrals(
        decision, authority_id=authority, rules=engine.config.rules, now=MONDAY_10
    )


def test_call_prompt_gives_the_front_door_number_in_office_hours(engine: ThinkFamily) -> None:
    (referral,) = _referral(engine, "islington")
    prompt = engine.call_prompt(referral, at=MONDAY_10)
    assert prompt.code is PromptCode.CALL_NOW and prompt.severity is Severity.CRITICAL
    assert prompt.summary == "Phone Islington now: 020 7527 7400."


def test_call_prompt_without_a_known_number_says_so_and_never_guesses(engine: ThinkFamily) -> None:
    (referral,) = _referral(engine, "islington")
    prompt = engine.call_prompt(referral, at=SATURDAY_NIGHT)
    assert "020 7527 7400" not in prompt.summary
    assert prompt.summary.startswith("No number is set up for Islington at this time.")
    assert "999" in prompt.summary and len(prompt.summary) <= 140


def test_call_prompt_for_immediate_danger_is_the_police(engine: ThinkFamily) -> None:
    police = next(
        r for r in _referral(engine, "redbridge", danger=True) if r.route.value == "police"
    )
    assert (
        engine.call_prompt(police, at=SATURDAY_NIGHT + timedelta(hours=1)).summary
        == "Phone the police now: 999."
    )
