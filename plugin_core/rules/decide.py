"""Checking an information-sharing decision and making the referrals it calls for.

The checks follow the seven golden rules: a reason is recorded whether sharing or not; a
sharing decision names its lawful basis and what happened about consent; consent not sought
says why; consent as the basis is confirmed as a deliberate choice, since public task or legal
obligation is usually right. Level 4 or immediate danger cannot be closed without action unless
the professional gives an explicit override reason. Not sharing at level 3 or 4 needs a reason
of substance and the safeguarding lead it was escalated to. A concern about someone who works
with children says which of the LADO criteria it meets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from plugin_core.errors import ThinkFamilyError
from plugin_core.model import (
    AdviceSought,
    Consent,
    Decision,
    LawfulBasis,
    Lead,
    Referral,
    ReferralAction,
    Route,
    referral_id,
    referral_key,
)
from plugin_core.rules.deadlines import acknowledge_by
from plugin_core.rules.routing import routes_for
from plugin_core.rules.trust_rules import TrustRules

MIN_NOT_SHARING_WORDS = 10
"""Words a decision not to share at level 3 or 4 must give as its reasons, at the least."""

ADVICE_CLOCK_SLACK = timedelta(minutes=5)
"""How far after the decision the advice may be dated: clocks of hosts differ a little."""


def word_count(text: str) -> int:
    """Words holding at least one letter or digit; punctuation alone is not a word."""
    return sum(1 for word in text.split() if any(c.isalnum() for c in word))


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class DecisionInvalid(ThinkFamilyError, ValueError):
    """A decision that cannot be recorded as it stands; ``problems`` names each field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def validate(
    decision: Decision,
    *,
    known_authority: str | None = None,
    directory: Collection[str] | None = None,
) -> None:
    """Raise DecisionInvalid listing every problem with the decision, or return quietly.

    :param directory: authority ids of the trust's directory; a chosen authority must be one.
    """
    problems: list[FieldProblem] = []

    def problem(name: str, reason: str) -> None:
        problems.append(FieldProblem(name, reason))

    if not decision.decided_by.id.strip():
        problem("decided_by", "say who made the decision")
    if not decision.reasons.strip():
        problem("reasons", "record the reasons for the decision, whether sharing or not")
    level = decision.level_of_need
    if level is None:
        problem("level_of_need", "choose a level of need from 1 to 4")
    elif not 1 <= level <= 4:
        problem("level_of_need", "must be 1, 2, 3 or 4")

    if decision.share:
        if decision.lawful_basis is None:
            problem("lawful_basis", "name the lawful basis for sharing")
        if decision.consent is None:
            problem("consent", "say whether consent was sought and the answer")
        elif (
            decision.consent is Consent.NOT_SOUGHT
            and not decision.consent_not_sought_reason.strip()
        ):
            problem(
                "consent_not_sought_reason",
                "say why consent was not sought (for example, asking would put a child at risk)",
            )
        if decision.lawful_basis is LawfulBasis.CONSENT and decision.consent is not Consent.GIVEN:
            problem("lawful_basis", "consent is the basis only when consent was given")
        if decision.lawful_basis is LawfulBasis.CONSENT and not decision.consent_basis_confirmed:
            problem(
                "consent_basis_confirmed",
                "consent is rarely the right basis for safeguarding (it can be withdrawn); public "
                "task or legal obligation usually is. Confirm you have read this to keep consent",
            )
        if level == 1 and not (
            decision.immediate_danger or decision.concerns_person_working_with_children
        ):
            problem(
                "level_of_need", "level 1 needs no referral; choose a higher level or do not share"
            )
        if not (known_authority or decision.authority_id) and _needs_authority(decision):
            problem("authority_id", "confirm which local authority to refer to")
        if (
            decision.authority_id
            and directory is not None
            and decision.authority_id not in directory
        ):
            problem("authority_id", "is not a local authority in the trust's directory")
        if not decision.what_shared.strip():
            problem("what_shared", "record what information is shared")
    else:
        acute = level == 4 or decision.immediate_danger
        if acute and not decision.no_action_override_reason.strip():
            problem(
                "no_action_override_reason",
                "level 4 or immediate danger needs a referral; give an explicit reason to override",
            )
        if (
            decision.concerns_person_working_with_children
            and not decision.no_action_override_reason.strip()
        ):
            problem(
                "no_action_override_reason",
                "a concern about someone who works with children goes to the LADO; give a reason to override",
            )
        if level in (3, 4):
            words = word_count(decision.reasons)
            if decision.reasons.strip() and words < MIN_NOT_SHARING_WORDS:
                problem(
                    "reasons",
                    f"at level {level}, say in at least {MIN_NOT_SHARING_WORDS} words why not "
                    f"sharing is right for the child (you wrote {words})",
                )
            if decision.escalated_to is None:
                problem(
                    "escalated_to",
                    f"at level {level}, not sharing must be escalated: name the safeguarding "
                    "lead you told, with their role or contact",
                )
    if decision.escalated_to is not None:
        _check_lead(decision.escalated_to, problem)
    if decision.advice_sought is not None:
        _check_advice(decision.advice_sought, decision.decided_at, problem)
    if decision.concerns_person_working_with_children and not decision.lado_criteria:
        problem("lado_criteria", "choose which of the LADO criteria the concern meets")
    if decision.lado_criteria and not decision.concerns_person_working_with_children:
        problem(
            "concerns_person_working_with_children",
            "LADO criteria are chosen: confirm the concern is about someone who works with children",
        )
    if problems:
        raise DecisionInvalid(problems)


def _check_lead(lead: Lead, problem: Callable[[str, str], None]) -> None:
    if not lead.name.strip():
        problem("escalated_to.name", "give the safeguarding lead's name")
    if not lead.role.strip() and not lead.contact.strip():
        problem("escalated_to.role", "give the lead's role, or a phone number or email for them")


def _check_advice(
    advice: AdviceSought, decided_at: datetime, problem: Callable[[str, str], None]
) -> None:
    if not advice.name.strip() and not advice.role.strip():
        problem("advice_sought.name", "say who gave the advice: their name or role")
    if advice.sought_at is None:
        problem("advice_sought.sought_at", "say when the advice was sought")
    elif advice.sought_at > decided_at + ADVICE_CLOCK_SLACK:
        problem("advice_sought.sought_at", "cannot be later than the decision")
    if not advice.advice.strip():
        problem("advice_sought.advice", "record what they advised")


def _needs_authority(decision: Decision) -> bool:
    return any(r is not Route.POLICE for r in routes_for(decision))


def idempotency_key(decision_id: str, route: Route) -> str:
    """A stable key for one referral: the same decision and route always give the same key."""
    return referral_key(referral_id(decision_id, route.value))


def make_referrals(
    decision: Decision, *, authority_id: str | None, rules: TrustRules, now: datetime
) -> tuple[Referral, ...]:
    """The referrals a valid decision calls for (none when not sharing)."""
    level = decision.level_of_need
    urgent = decision.immediate_danger or (level in rules.urgency.urgent_levels)
    authority = decision.authority_id or authority_id
    referrals = []
    for route in routes_for(decision):
        rid = referral_id(decision.id, route.value)
        pressing = urgent or route is Route.POLICE
        referrals.append(
            Referral(
                id=rid,
                decision_id=decision.id,
                contact_id=decision.contact_id,
                route=route,
                level_of_need=level,
                urgent=pressing,
                idempotency_key=referral_key(rid),
                created_at=now,
                due_by=acknowledge_by(
                    rules, authority_id=authority, route=route, urgent=pressing, sent_at=now
                ),
                authority_id=authority,
                child_refs=decision.child_refs,
                reasons=decision.reasons,
                lawful_basis=decision.lawful_basis,
            )
        )
    return tuple(referrals)


def amendment(
    original: Referral,
    *,
    action: ReferralAction,
    amendment_id: str,
    reasons: str,
    rules: TrustRules,
    now: datetime,
) -> Referral:
    """An update to, or the cancellation of, a referral already made, sent the same way.

    Its key comes from the amendment's own id, so a repeated request for the same amendment
    is recognised while a second, different update is not mistaken for the first.
    """
    if action is ReferralAction.NEW:
        raise ValueError("an amendment is an update or a cancellation")
    if original.action is not ReferralAction.NEW:
        raise ValueError("only an original referral can be updated or cancelled")
    rid = referral_id(original.id, action.value, amendment_id)
    urgent = original.urgent and action is ReferralAction.UPDATE
    due_by = acknowledge_by(
        rules,
        authority_id=original.authority_id,
        route=original.route,
        urgent=urgent,
        sent_at=now,
    )
    return replace(
        original,
        id=rid,
        idempotency_key=referral_key(rid),
        created_at=now,
        due_by=due_by,
        urgent=urgent,
        reasons=reasons,
        action=action,
        amends=original.id,
    )
